"""The trignet model zoo: one module per architecture (see models/README.md).

Each module defines
  NAME      model name, also the JSON file name models/<NAME>.json
  TITLE     one line: the published architecture it stands for
  build()   -> a Keras 3 model (random weights are set by models/build_zoo.py)
  CONVERT   keyword arguments for trignet_convert.convert_keras (labels, variables, ...)
  NOTES     what differs from the published network, if anything
"""
