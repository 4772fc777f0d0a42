"""The monthly interim report in django-celery-beat's tables (editable in the admin afterwards): every day at
06:00 at the installation's clock (TIME_ZONE), `reports.monthly_reports` asks for each study's report at the
start of its month unless that month's report is asked for already and has not failed: planned on the 1st,
and asked for again the next day if it failed (a broker down, a worker lost)."""

from django.conf import settings
from django.db import migrations

NAME = "Reports: the monthly interim report"
TASK = "reports.monthly_reports"


def create(apps, schema_editor):
    crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    task = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule, _ = crontab.objects.get_or_create(
        minute="0", hour="6", day_of_month="*", month_of_year="*", day_of_week="*", timezone=settings.TIME_ZONE
    )
    task.objects.get_or_create(name=NAME, defaults={"task": TASK, "crontab": schedule})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_jobs_cuts_downloads"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
