from django.db import models
from django.db.models.expressions import Combinable
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

class StaticDevice(TimestampMixin, ThrottlingMixin, Device): ...

class StaticToken(models.Model):
    device_id: int
    device: models.ForeignKey[StaticDevice | Combinable, StaticDevice]
    token: models.CharField[str | int | Combinable, str]
    @staticmethod
    def random_token() -> str: ...
