"""Spikey: a vectorized spiking neural network framework with an RL training platform."""

from setuptools import find_packages, setup

with open("README.md", encoding="utf-8") as handle:
    long_description = handle.read()

setup(
    name="spikey",
    version="0.1.0",
    description="Vectorized spiking neural networks trained by reward-modulated plasticity, on Ray.",
    long_description=long_description,
    long_description_content_type="text/markdown",
    packages=find_packages(include=["spikey", "spikey.*"]),
    python_requires=">=3.10",
    install_requires=[
        "numpy>=2.0,<3",
        "gymnasium==1.4.0",
        "ray[train]==2.60.0",
        "pandas>=2.2",
        "matplotlib>=3.8",
        "tqdm>=4.66",
        "PyYAML>=6.0",
        "numba>=0.60",
        "scikit-learn>=1.3,<2",
    ],
    entry_points={"console_scripts": ["spikey=spikey.cli:main"]},
    extras_require={"test": ["pytest>=8", "scipy>=1.12"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
