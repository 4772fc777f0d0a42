"""The reminders' periodic tasks, in django-celery-beat's tables (editable in the admin afterwards): the sweep
every 15 minutes (it plans today's reminders at each site by its own date; idempotent) and the outbox dispatch
every minute."""

from django.db import migrations

SCHEDULES = [
    ("Reminders: plan today's", "followup.reminders_sweep", 15, "minutes"),
    ("Outbox: send due messages", "followup.outbox_dispatch", 60, "seconds"),
]


def create(apps, schema_editor):
    interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    task = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, path, every, period in SCHEDULES:
        schedule, _ = interval.objects.get_or_create(every=every, period=period)
        task.objects.get_or_create(name=name, defaults={"task": path, "interval": schedule})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[name for name, *_ in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0005_outbox"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
