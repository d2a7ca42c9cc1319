"""Keras's own sequence and attention examples run with only the import lines changed.

Each test is a keras.io example or guide shortened to a few samples, tiny sizes and one or two
epochs; datasets that need a download are replaced by synthetic data of the same shapes.
"""
import numpy as np

import mgp as keras
from mgp import layers, ops


def test_keras_text_classification_with_transformer_example():
    # keras.io examples/nlp/text_classification_with_transformer.py, imports changed; IMDB
    # replaced by random integer sequences, sizes shrunk
    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential(
                [
                    layers.Dense(ff_dim, activation="relu"),
                    layers.Dense(embed_dim),
                ]
            )
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            maxlen = ops.shape(x)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            positions = self.pos_emb(positions)
            x = self.token_emb(x)
            return x + positions

    vocab_size = 200
    maxlen = 20
    rng = np.random.default_rng(0)
    x_train = [list(rng.integers(1, vocab_size, rng.integers(5, 30))) for _ in range(96)]
    x_val = [list(rng.integers(1, vocab_size, rng.integers(5, 30))) for _ in range(32)]
    y_train, y_val = rng.integers(0, 2, 96), rng.integers(0, 2, 32)
    x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
    x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

    embed_dim = 16
    num_heads = 2
    ff_dim = 16
    inputs = layers.Input(shape=(maxlen,))
    embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
    x = embedding_layer(inputs)
    transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
    x = transformer_block(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=2,
                        validation_data=(x_val, y_val), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(np.isfinite(history.history["loss"]))
    # the example's layers all own weights: 2 embeddings, attention (4 dense), ffn, 2 norms, head
    assert len(model.trainable_weights) == 2 + 8 + 4 + 4 + 4
    assert model.predict(x_val[:4], verbose=0).shape == (4, 2)


def test_keras_bidirectional_lstm_imdb_example():
    # keras.io examples/nlp/bidirectional_lstm_imdb.py, imports changed; IMDB replaced by
    # random integer sequences, sizes shrunk
    max_features = 100
    maxlen = 12
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(max_features, 8)(inputs)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(8))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.summary()
    rng = np.random.default_rng(1)
    x_train = [list(rng.integers(1, max_features, rng.integers(3, 20))) for _ in range(64)]
    y_train = rng.integers(0, 2, 64)
    x_val = [list(rng.integers(1, max_features, rng.integers(3, 20))) for _ in range(16)]
    y_val = rng.integers(0, 2, 16)
    x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
    x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=2,
                        validation_data=(x_val, y_val), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(np.isfinite(history.history["loss"]))
    # embedding + 2 bidirectional LSTMs (3 weights per direction) + dense
    assert len(model.trainable_weights) == 1 + 12 + 2
    assert model.output_shape == (None, 1)
