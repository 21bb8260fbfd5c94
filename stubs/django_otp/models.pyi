import datetime
from typing import Any, ClassVar, Self, TypeVar

from django.contrib.auth.models import _User
from django.db import models
from django.db.models.expressions import Combinable

_D = TypeVar("_D", bound=Device)

class DeviceManager(models.Manager[_D]):
    def devices_for_user(
        self, user: _User, confirmed: bool | None = None
    ) -> models.QuerySet[_D]: ...

class Device(models.Model):
    user_id: int
    user: models.ForeignKey[_User | Combinable, _User]
    name: models.CharField[str | int | Combinable, str]
    confirmed: models.BooleanField[bool | Combinable, bool]
    objects: ClassVar[DeviceManager[Self]]
    @property
    def persistent_id(self) -> str: ...
    @classmethod
    def model_label(cls) -> str: ...
    @classmethod
    def from_persistent_id(cls, persistent_id: str, for_verify: bool = False) -> Device | None: ...
    def is_interactive(self) -> bool: ...
    def generate_is_allowed(self) -> tuple[bool, dict[str, Any] | None]: ...
    def generate_challenge(self) -> str | None: ...
    def verify_is_allowed(self) -> tuple[bool, dict[str, Any] | None]: ...
    def verify_token(self, token: str) -> bool: ...

class ThrottlingMixin(models.Model):
    throttling_failure_timestamp: models.DateTimeField[
        str | datetime.datetime | Combinable | None, datetime.datetime | None
    ]
    throttling_failure_count: models.PositiveIntegerField[int | Combinable, int]
    def throttle_reset(self, commit: bool = True) -> None: ...
    def throttle_increment(self, commit: bool = True) -> None: ...
    def get_throttle_factor(self) -> int: ...

class TimestampMixin(models.Model):
    created_at: models.DateTimeField[
        str | datetime.datetime | Combinable | None, datetime.datetime | None
    ]
    last_used_at: models.DateTimeField[
        str | datetime.datetime | Combinable | None, datetime.datetime | None
    ]
    def set_last_used_timestamp(self, commit: bool = True) -> None: ...
