"""Datasets, loaded as Keras loads them: `mnist.load_data()`, `fashion_mnist.load_data()`.

Local copies are found through a `path=` argument or the `MGP_DATA_DIR` environment variable;
otherwise files are downloaded once into `~/.mgp/datasets/` (or `$MGP_CACHE_DIR`).
"""
from mgp.datasets import fashion_mnist, mnist  # noqa: F401
