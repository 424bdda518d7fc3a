"""Click options shared by several commands, each defined once with its help text.

Every command that takes ``--project-dir``, ``--site-dir``, ``--jobs`` or ``--profile`` gets it
from here, so two commands cannot describe one option differently
(``tests/test_cli.py::test_shared_options_read_the_same_everywhere``).
"""

from __future__ import annotations

from pathlib import Path

import click

PROJECT_DIR_HELP = "The project folder (with mkdocs.yml and templates/)."
SITE_DIR_HELP = "The site's folder  [default: site/ in the project]."
JOBS_HELP = ("Parallel workers: processes for a build (one stack of runs or one figure each), threads "
             "for `run` (one block of the seeds each); no number depends on it  [default: the number of CPUs].")
PROFILE_HELP = ("Catalogue profile: default, quick, or one defined in initreport.toml  "
                "[default: [build] profile in initreport.toml, else default].")
INIT_HELP = "Weight initialiser (see `initreport list`)."
DATASET_HELP = "A built-in dataset (digits, spirals, circles, moons) or a path to a CSV file."
QUICK_HELP = "The small `quick` profile: a preview in seconds."
CACHE_FORCE_HELP = "Ignore the cache and rerun every experiment."
PUSH_FORCE_HELP = "Replace the site branch's history with one new commit (force-push; site commits only)."


def project_dir_option(f):
    return click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                        show_default=True, help=PROJECT_DIR_HELP)(f)


def site_dir_option(f):
    return click.option("--site-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help=SITE_DIR_HELP)(f)


def jobs_option(f):
    return click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help=JOBS_HELP)(f)


def profile_option(f):
    return click.option("--profile", default=None, help=PROFILE_HELP)(f)


# The shared options by flag, for the test that checks each reads the same in every command.
SHARED = {"--project-dir": PROJECT_DIR_HELP, "--site-dir": SITE_DIR_HELP, "--jobs": JOBS_HELP,
          "--profile": PROFILE_HELP}
