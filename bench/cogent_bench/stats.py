"""Medians with their range, over the rounds of one cell."""

import statistics
from dataclasses import dataclass


@dataclass
class Spread:
    median: float
    low: float
    high: float

    @staticmethod
    def of(values):
        values = [v for v in values if v is not None]
        if not values:
            return None
        return Spread(statistics.median(values), min(values), max(values))
