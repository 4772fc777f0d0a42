"""The daily prune of sign-in records (trial/services/housekeeping.py), in django-celery-beat's tables
(editable in the admin afterwards)."""

from django.db import migrations

NAME = "Sign-in records: prune expired and old"


def create(apps, schema_editor):
    interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    task = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule, _ = interval.objects.get_or_create(every=1, period="days")
    task.objects.get_or_create(name=NAME, defaults={"task": "trial.signin_records_prune", "interval": schedule})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("trial", "0010_drop_authtoken_tables"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
