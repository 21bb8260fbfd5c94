// Backlog pages
