"""SwapEMAWeights: evaluate (and predict, and checkpoint) with the moving average of the weights
that an optimizer with `use_ema=True` keeps."""
from mgp.callbacks.base import Callback


class SwapEMAWeights(Callback):
    """Swap the model's weights with their moving average (the optimizer's `use_ema=True`)
    during evaluation and prediction, and swap them back afterwards.

    With `swap_on_epoch=True` the average is also in the model from the end of each epoch to
    the start of the next, so callbacks that run after it (ModelCheckpoint) see it; after the
    last epoch it stays there.

    Args:
        swap_on_epoch: also swap at the end of each epoch (default False).

    Example:
        >>> model.compile(optimizer=mgp.optimizers.SGD(use_ema=True), loss="mse")
        >>> model.fit(x, y, epochs=3, validation_data=(xv, yv),
        ...           callbacks=[mgp.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _ema_optimizers(self):
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        inner = getattr(type(optimizer), "optimizers", None) and optimizer.optimizers
        candidates = inner if inner else [optimizer]
        found = [o for o in candidates if getattr(o, "use_ema", False)]
        if not found:
            raise ValueError(f"SwapEMAWeights needs an optimizer with use_ema=True; the model's "
                             f"optimizer is {getattr(self.model, 'optimizer', None)!r}")
        return [o for o in found if o.built]

    def _swap(self):
        for optimizer in self._ema_optimizers():
            for var, average in zip(optimizer._trainable_variables,
                                    optimizer._model_variables_moving_average):
                current = var.data.copy()
                optimizer._own(var)[...] = average.data
                average.data[...] = current

    def _finalize(self):
        """Keep the average in the model for good: the slots take it too."""
        for optimizer in self._ema_optimizers():
            for var, average in zip(optimizer._trainable_variables,
                                    optimizer._model_variables_moving_average):
                average.data[...] = var.data

    def on_train_begin(self, logs=None):
        self._ema_optimizers()  # fail before training, not after the first epoch

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True
            if epoch == self.params.get("epochs", 0) - 1:
                self._finalize()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    on_predict_begin = on_test_begin
    # (Keras 3.15's on_predict_end tests the flag the wrong way round and never swaps back)
    on_predict_end = on_test_end

    def __repr__(self):
        return f"<SwapEMAWeights swap_on_epoch={self.swap_on_epoch}>"
