"""The experiment catalogue (being moved here from ``initreport/experiments.py``)."""
