"""Recurrent layers, as Keras groups them: the generic `RNN` over a cell, the cells
(`SimpleRNNCell`, `LSTMCell`, `GRUCell`, `StackedRNNCells`), the layers over them
(`SimpleRNN`, `LSTM`, `GRU`), the convolutional LSTMs (`ConvLSTM1D`, `ConvLSTM2D`,
`ConvLSTM3D`), and the wrappers `Bidirectional` and `TimeDistributed`. The built-in layers run a whole sequence as one fused op of `mgp.ops.recurrent`."""
from mgp.layers.rnn.bidirectional import Bidirectional
from mgp.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from mgp.layers.rnn.gru import GRU, GRUCell
from mgp.layers.rnn.lstm import LSTM, LSTMCell
from mgp.layers.rnn.rnn import RNN
from mgp.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from mgp.layers.rnn.stacked_rnn_cells import StackedRNNCells
from mgp.layers.rnn.time_distributed import TimeDistributed

__all__ = [
           "GRU",
           "LSTM",
           "RNN",
           "Bidirectional",
           "ConvLSTM1D",
           "ConvLSTM2D",
           "ConvLSTM3D",
           "GRUCell",
           "LSTMCell",
           "SimpleRNN",
           "SimpleRNNCell",
           "StackedRNNCells",
           "TimeDistributed",
]
