"""Packaging beyond setup.cfg: the top-level index_templates/ and painless/ directories ship inside
the package as lrr_es.index_templates and lrr_es.painless (data only, read with importlib.resources)."""
from setuptools import find_packages, setup

DATA_PACKAGES = {"lrr_es.index_templates": "index_templates", "lrr_es.painless": "painless"}

setup(
    packages=find_packages(include=["lrr_es", "lrr_es.*"]) + list(DATA_PACKAGES),
    package_dir=DATA_PACKAGES,
    package_data={"lrr_es.index_templates": ["*.json"], "lrr_es.painless": ["*.painless"],
                  "lrr_es.devcluster": ["pom.xml", "pom-es8.xml"],
                  "lrr_es.admin": ["templates/*.html", "static/*.css"]},
)
