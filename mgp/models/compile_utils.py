"""What `compile(loss=..., metrics=...)` becomes: one loss and one metric set per output, named
as Keras 3 names them in the logs.

- `CompileLoss`: the weighted sum of each output's loss. With several outputs each loss also has
  a `Mean` tracker named `<output>_loss` (the unweighted loss), as Keras logs `cls_loss`.
- `CompileMetrics`: the compiled metrics (not weighted by `sample_weight`) and weighted metrics
  of each output; `result()` is a dict keyed `<output>_<metric>` for models with several
  outputs (`cls_accuracy`), `<metric>` for one, a repeated name getting `_1`, `_2`, and a
  weighted metric that repeats an unweighted one getting `weighted_`.

Both are resolved at the first batch, from the shapes of the targets and predictions (so that
'accuracy' becomes the accuracy that fits), as Keras does; the names are checked at compile.
"""
from mgp import losses as losses_module, metrics as metrics_module
from mgp.errors import InvalidArgumentError
from mgp.layers.symbolic import flatten

_AUTO_ACCURACY = ("accuracy", "acc")
_AUTO_CROSSENTROPY = ("crossentropy", "ce")


def output_structure(y_pred, output_names):
    """(the flat predictions, their names) for a model output: one tensor, a list or a dict.
    Names are the dict's keys, else the model's output names, else None."""
    if isinstance(y_pred, dict):
        keys = list(output_names) if output_names and set(output_names) == set(y_pred) \
            else sorted(y_pred)
        return [y_pred[k] for k in keys], keys
    flat = flatten(y_pred)
    names = list(output_names) if output_names and len(output_names) == len(flat) else \
        [None] * len(flat)
    return flat, names


def targets_for(y_true, names, what="y"):
    """The targets as a flat list matching the outputs `names` (a dict keyed by output names,
    a list in output order, or one array for one output)."""
    if isinstance(y_true, dict):
        missing = [n for n in names if n not in y_true]
        if missing or None in names:
            raise ValueError(f"{what} is a dict with keys {sorted(y_true)}, but the model's "
                             f"outputs are named {names}")
        return [y_true[n] for n in names]
    flat = flatten(y_true) if isinstance(y_true, (list, tuple)) else [y_true]
    if len(flat) != len(names):
        raise ValueError(f"the model has {len(names)} outputs, but {what} holds {len(flat)} "
                         f"arrays; give one per output (a list, or a dict keyed by "
                         f"{names if None not in names else 'output'})")
    return flat


def _per_output(value, names, what):
    """A compile argument as one entry per output: the same for all (one value), a list in
    output order, or a dict keyed by output name (missing names: None)."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(n for n in names if n is not None))
        if unknown:
            raise ValueError(f"compile(): {what} names outputs {unknown}, but the model's "
                             f"outputs are {names}")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"compile(): {what} has {len(value)} entries for the model's "
                             f"{len(names)} outputs {names}")
        return list(value)
    return [value] * len(names)


def _is_binary_or_sparse(y_true, y_pred):
    t, p = tuple(y_true.shape), tuple(y_pred.shape)
    binary = bool(p) and p[-1] == 1
    sparse = len(t) < len(p) or bool(t) and t[-1] == 1 and p[-1] > 1
    return binary, sparse


def resolve_loss(identifier, y_true, y_pred):
    """A Loss object and its name, as Keras's `get_loss`: 'crossentropy' / 'ce' pick the
    cross-entropy that fits the shapes; a function is wrapped (named after the function)."""
    if identifier is None:
        return None, None
    if isinstance(identifier, str) and identifier.lower() in _AUTO_CROSSENTROPY:
        binary, sparse = _is_binary_or_sparse(y_true, y_pred)
        identifier = "binary_crossentropy" if binary else \
            "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy"
    loss = losses_module.get(identifier)
    if isinstance(identifier, str):
        # a function's name ('mse') names the loss as given, a class name ('MeanSquaredError')
        # names it as the class does, as in Keras
        name = identifier if identifier == identifier.lower() else loss.name
    else:
        name = getattr(loss, "name", None) or getattr(identifier, "__name__", None)
    if not isinstance(loss, losses_module.Loss):
        loss = losses_module.LossFunctionWrapper(loss, name=name)
    return loss, name


def check_loss(identifier, what="loss"):
    """Resolve a loss identifier once at compile, so that a wrong name fails there, naming the
    argument."""
    for item in flatten(identifier) if isinstance(identifier, (list, tuple, dict)) else \
            [identifier]:
        if item is not None and not (isinstance(item, str) and
                                     item.lower() in _AUTO_CROSSENTROPY):
            try:
                losses_module.get(item)
            except (ValueError, TypeError) as e:
                raise InvalidArgumentError(f"compile(): {what}={item!r}: {e}") from None


def check_metrics(identifier, what="metrics"):
    """The same for `metrics` / `weighted_metrics`: a list, tuple or dict (as Keras requires:
    `metrics=["accuracy"]`, not `metrics="accuracy"`) of names, Metrics or functions."""
    if identifier is None:
        return
    if not isinstance(identifier, (list, tuple, dict)):
        raise InvalidArgumentError(f"compile(): {what} must be a list, tuple or dict (as in "
                                   f"Keras), got {identifier!r}; for one metric write "
                                   f"{what}=[{identifier!r}]")
    for item in flatten(identifier):
        if item is not None and not (isinstance(item, str) and
                                     item.lower() in _AUTO_ACCURACY):
            try:
                metrics_module.get(item)
            except (ValueError, TypeError) as e:
                raise InvalidArgumentError(f"compile(): {what} entry {item!r}: {e}") from None


def check_per_output(value, names, what):
    """At compile, once the output names are known: a list or dict of `what` fits them."""
    if names is not None and isinstance(value, (list, tuple, dict)):
        try:
            _per_output(value, names, what)
        except ValueError as e:
            raise InvalidArgumentError(str(e)) from None


class CompileLoss:
    """The compiled loss: `__call__(y_true, y_pred, sample_weight)` -> scalar Tensor (or None
    when no output has a loss)."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        if loss_weights is not None and not isinstance(loss_weights,
                                                       (list, tuple, dict, int, float)):
            raise InvalidArgumentError(f"compile(): loss_weights must be a float (one output), "
                                       f"a list or a dict, got {loss_weights!r}")
        self._loss, self._loss_weights, self.output_names = loss, loss_weights, output_names
        self.built = False
        self.metrics = []  # the per-output Mean trackers (several outputs only)

    def build(self, y_true, y_pred):
        flat_pred, names = output_structure(y_pred, self.output_names)
        flat_true = targets_for(y_true, names)
        losses = _per_output(self._loss, names, "loss")
        weights = _per_output(self._loss_weights, names, "loss_weights")
        self._flat = []  # (output index, Loss, weight, name)
        for i, (identifier, weight) in enumerate(zip(losses, weights)):
            loss, loss_name = resolve_loss(identifier, flat_true[i], flat_pred[i])
            if loss is not None:
                self._flat.append((i, loss, weight, names[i] or loss_name))
        if len(self._flat) > 1:
            self.metrics = [metrics_module.Mean(name=f"{name}_loss")
                            for _, _, _, name in self._flat]
        self._names = names
        # what the targets of later calls are checked against (mgp.models.checks), for a
        # model with no symbolic outputs
        self.output_shapes = [tuple(p.shape[1:]) for p in flat_pred]
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        flat_pred, names = output_structure(y_pred, self.output_names)
        flat_true = targets_for(y_true, names)
        if isinstance(sample_weight, (list, tuple, dict)):
            weights = targets_for(sample_weight, names, "sample_weight")
        else:
            weights = [sample_weight] * len(names)
        trackers = self.metrics or [None] * len(self._flat)
        total = None
        for (i, loss, weight, _), tracker in zip(self._flat, trackers):
            value = loss(flat_true[i], flat_pred[i], sample_weight=weights[i])
            if tracker is not None:  # the unweighted loss of this output
                tracker.update_state(value, sample_weight=flat_pred[i].shape[0])
            if weight is not None:
                value = value * weight
            total = value if total is None else total + value
        return total


class MetricsList(metrics_module.Metric):
    """The metrics of one output."""

    def __init__(self, metrics, output_name=None):
        self.metrics, self.output_name = metrics, output_name
        super().__init__(name="metrics_list")

    def update_state(self, y_true, y_pred, sample_weight=None):
        for m in self.metrics:
            m.update_state(y_true, y_pred, sample_weight=sample_weight)

    def reset_state(self):
        for m in getattr(self, "metrics", []):
            m.reset_state()

    def result(self):
        return {m.name: m.result() for m in self.metrics}


def resolve_metric(identifier, y_true, y_pred):
    """A Metric for `identifier`, named as Keras's `get_metric` names it."""
    if isinstance(identifier, str) and identifier.lower() in _AUTO_ACCURACY:
        binary, sparse = _is_binary_or_sparse(y_true, y_pred)
        cls = metrics_module.BinaryAccuracy if binary else \
            metrics_module.SparseCategoricalAccuracy if sparse else \
            metrics_module.CategoricalAccuracy
        return cls(name=identifier)
    metric = metrics_module.get(identifier)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


class CompileMetrics(metrics_module.Metric):
    """The compiled metrics and weighted metrics of every output; `result()` is a dict."""

    def __init__(self, metrics, weighted_metrics, output_names=None):
        for what, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value and not isinstance(value, (list, tuple, dict)):
                raise ValueError(f"compile(): {what} must be a list, tuple or dict, got "
                                 f"{value!r}")
        self._metrics, self._weighted = metrics, weighted_metrics
        self.output_names = output_names
        self.built = False
        super().__init__(name="compile_metrics")

    @property
    def metrics(self):
        if not self.built:
            return []
        return [m for lst in self._flat + self._flat_weighted if lst for m in lst.metrics]

    def build(self, y_true, y_pred):
        flat_pred, names = output_structure(y_pred, self.output_names)
        flat_true = targets_for(y_true, names)
        self._names = names
        self._flat = self._build_set(self._metrics, flat_true, flat_pred, names, "metrics")
        self._flat_weighted = self._build_set(self._weighted, flat_true, flat_pred, names,
                                              "weighted_metrics")
        self.built = True

    @staticmethod
    def _build_set(metrics, flat_true, flat_pred, names, what):
        if not metrics:
            return [None] * len(names)
        if len(names) == 1:  # one output: every metric is for it, unprefixed
            entries, prefixes = [flatten(metrics)], [None]
        elif isinstance(metrics, dict) or len(metrics) == len(names):
            entries, prefixes = _per_output(metrics, names, what), names
        else:
            raise ValueError(f"compile(): {what}={metrics!r} for a model with {len(names)} "
                             f"outputs {names}: give a list with one entry (a metric or a "
                             f"list of metrics) per output, or a dict keyed by output name")
        out = []
        for entry, t, p, prefix in zip(entries, flat_true, flat_pred, prefixes):
            if entry is None:
                out.append(None)
                continue
            entry = entry if isinstance(entry, (list, tuple)) else [entry]
            out.append(MetricsList([resolve_metric(m, t, p) for m in entry], prefix))
        return out

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        flat_pred, names = output_structure(y_pred, self.output_names)
        flat_true = targets_for(y_true, names)
        if isinstance(sample_weight, (list, tuple, dict)):
            weights = targets_for(sample_weight, names, "sample_weight")
        else:
            weights = [sample_weight] * len(names)
        for lst, t, p in zip(self._flat, flat_true, flat_pred):
            if lst:
                lst.update_state(t, p)
        for lst, t, p, w in zip(self._flat_weighted, flat_true, flat_pred, weights):
            if lst:
                lst.update_state(t, p, sample_weight=w)

    def reset_state(self):
        if getattr(self, "built", False):
            for lst in self._flat + self._flat_weighted:
                if lst:
                    lst.reset_state()

    def result(self):
        if not self.built:
            return {}
        results, counts = {}, {}

        def prefixed(lst, name):
            return f"{lst.output_name}_{name}" if lst.output_name else name
        for lst in self._flat:
            for m in lst.metrics if lst else []:
                name = prefixed(lst, m.name)
                if name in counts:
                    counts[name] += 1
                    name = f"{name}_{counts[name] - 1}"
                else:
                    counts[name] = 1
                results[name] = m.result()
        for lst in self._flat_weighted:
            for m in lst.metrics if lst else []:
                name = prefixed(lst, m.name)
                if name in counts:
                    name = prefixed(lst, f"weighted_{m.name}")
                    if name in counts:
                        counts[name] += 1
                        name = f"{name}_{counts[name] - 1}"
                    else:
                        counts[name] = 1
                else:
                    counts[name] = 1
                results[name] = m.result()
        return results
