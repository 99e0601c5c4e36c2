# The staff queue indexes (bench/cases.py): a partial, ordered and covering ``case_queue`` over
# the cases still in a queue, and ``case_to_review`` for the two-status review queue. On a large
# PostgreSQL table, run the statements of ``sqlmigrate cases 0002`` with CONCURRENTLY (the new
# case_queue under a temporary name, renamed after the old one is dropped) and apply this
# migration with --fake.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0001_initial'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='case',
            name='case_queue',
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('status__in', ['pre_review', 'to_accept', 'correcting', 'under_review', 'suspended', 'decided', 'concluded'])), fields=['organization', 'status', 'promised_due', 'submitted_at', 'id', 'warn_on', 'region_code'], name='case_queue'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('status__in', ['under_review', 'decided'])), fields=['organization', 'promised_due', 'submitted_at', 'id'], name='case_to_review'),
        ),
    ]
