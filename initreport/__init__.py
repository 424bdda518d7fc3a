"""initreport: weight-initialisation claims put to the test on a NumPy MLP."""

__version__ = "0.1.0"
