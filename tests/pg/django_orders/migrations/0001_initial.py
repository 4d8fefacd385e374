from typing import Any, ClassVar

from django.db import migrations, models

from bridge.contrib.django import ObanMigration


class Migration(migrations.Migration):
    initial = True
    dependencies: ClassVar[list[tuple[str, str]]] = []

    operations: ClassVar[list[Any]] = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("number", models.IntegerField()),
            ],
            options={"db_table": "orders"},
        ),
        ObanMigration(version=14),
    ]
