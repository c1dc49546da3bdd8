"""specc: a declarative model-spec compiler for PyTorch and Keras."""

__version__ = "0.1.0"
