"""``manage.py demo_sales [--rate N] [--seconds S]``: feed the sales dashboard with random demo orders."""

from __future__ import annotations

import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hub import sales
from notifications import redis_client
from notifications.exceptions import HubUnavailable


class Command(BaseCommand):
    help = "Create random demo orders at --rate per second for --seconds (0: until Ctrl-C)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rate", type=float, default=5.0, help="orders per second (default 5)")
        parser.add_argument("--seconds", type=float, default=0.0, help="how long; 0 runs until Ctrl-C (default)")
        parser.add_argument("--seed", type=int, default=None, help="seed of the random orders, for repeatable runs")

    def handle(self, *args: Any, rate: float, seconds: float, seed: int | None, **options: Any) -> None:
        if rate <= 0 or seconds < 0:
            raise CommandError("--rate must be positive and --seconds 0 or more, not %r and %r." % (rate, seconds))
        try:
            redis_client.check()
        except HubUnavailable as error:
            raise CommandError("No orders created: %s" % error) from None
        rng = random.Random(seed)
        start = time.monotonic()
        created = 0
        try:
            while not seconds or time.monotonic() - start < seconds:
                sales.create_demo_order(rng=rng)
                created += 1
                # Pacing, not waiting for an event: the next order is due at created / rate.
                time.sleep(max(0.0, start + created / rate - time.monotonic()))
        except KeyboardInterrupt:
            pass  # Ctrl-C is how the open-ended run stops; the count below still prints
        self.stdout.write("Created %d demo orders in %.1f s." % (created, time.monotonic() - start))
