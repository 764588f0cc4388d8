"""Only to tag the wheel as platform-specific: it carries a compiled library (_openpose_ops.so).
Everything else is in pyproject.toml."""

from setuptools import setup
from setuptools.dist import Distribution


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


setup(distclass=BinaryDistribution)
