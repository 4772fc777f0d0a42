"""The loopback SMTP server and SMS gateway, for every test of the messaging package."""

from .servers import sms_gateway, smtp_server  # noqa: F401 -- fixtures
