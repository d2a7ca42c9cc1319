"""Datasets, loaded as Keras loads them: `mnist.load_data()`, `cifar10.load_data()`,
`imdb.load_data(num_words=10000)`, ...

Local copies are found through a `path=` argument or the `MGP_DATA_DIR` environment variable;
otherwise files are downloaded once (from the URLs Keras uses, checked against the hashes Keras
publishes) into `~/.mgp/datasets/` (or `$MGP_CACHE_DIR`). Keras's IMDB, Reuters and CIFAR files
hold Python pickles: mgp decodes them with its own restricted reader, never with `pickle`.
"""
from mgp.datasets import (  # noqa: F401
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)
