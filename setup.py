"""Package layout: ``symndk`` plus the checked-in ``generated/`` folder, installed as ``symndk_generated``."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["symndk", "symndk.*"]) + ["symndk_generated"],
    package_dir={"symndk_generated": "generated"},
    package_data={"symndk": ["**/*.j2", "**/*.json", "**/*.csv"], "symndk_generated": ["*.c"]},
    include_package_data=True,
)
