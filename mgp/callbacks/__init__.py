"""Callbacks: objects whose hooks `fit`, `evaluate` and `predict` call, with Keras's names.

`History` is attached to every `fit`; the others are passed as `fit(..., callbacks=[...])`.
"""
from mgp.callbacks.base import Callback, CallbackList, History
from mgp.callbacks.progbar import ProgbarLogger
from mgp.callbacks.monitor import MonitorCallback
from mgp.callbacks.checkpoint import ModelCheckpoint
from mgp.callbacks.early_stopping import EarlyStopping
from mgp.callbacks.lr import LearningRateScheduler, ReduceLROnPlateau
from mgp.callbacks.logging import CSVLogger, LambdaCallback, RemoteMonitor, TerminateOnNaN
from mgp.callbacks.backup import BackupAndRestore
from mgp.callbacks.ema import SwapEMAWeights
from mgp.callbacks.tensorboard import TensorBoard

__all__ = [
    "Callback", "CallbackList", "History", "ProgbarLogger", "MonitorCallback", "ModelCheckpoint",
    "EarlyStopping", "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger", "LambdaCallback",
    "TerminateOnNaN", "BackupAndRestore", "RemoteMonitor", "SwapEMAWeights", "TensorBoard",
]
