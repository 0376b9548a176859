"""Forms that start the example jobs."""

from django import forms


class ExportForm(forms.Form):
    """Start a CSV export."""

    rows = forms.IntegerField(min_value=1, max_value=1_000_000, initial=20_000, label="Rows")
    pace = forms.IntegerField(
        min_value=0, max_value=1_000_000, initial=5_000, required=False, label="Rows per second",
        help_text="0: as fast as possible.",
    )  # fmt: skip


class ComputeForm(forms.Form):
    """Start the prime report, a three-stage computation."""

    limit = forms.IntegerField(min_value=10, max_value=10_000_000, initial=2_000_000, label="Primes below")
    stage_seconds = forms.FloatField(
        min_value=0, max_value=60, initial=2, required=False, label="Seconds per stage (at least)",
        help_text="0: as fast as possible.",
    )  # fmt: skip
