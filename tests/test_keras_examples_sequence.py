"""Keras's own sequence and attention examples run with only the import lines changed.

Each test is a keras.io example or guide shortened to a few samples, tiny sizes and one or two
epochs; datasets that need a download are replaced by synthetic data of the same shapes.
"""
import numpy as np

import oracles

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


def test_keras_functional_api_guide_multi_input_multi_output_model():
    # keras.io guides/functional_api.py, "Models with multiple inputs and outputs" (the ticket
    # ranking model), imports changed, sizes and sample count shrunk
    num_tags = 12
    num_words = 100
    num_departments = 4
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 8)(title_input)
    body_features = layers.Embedding(num_words, 8)(body_input)
    title_features = layers.LSTM(16)(title_features)
    body_features = layers.LSTM(4)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    model = keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs={"priority": priority_pred, "department": department_pred},
    )
    assert [w.shape for w in model.layers[4].weights] == [(8, 64), (16, 64), (64,)]

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )
    title_data = np.random.randint(num_words, size=(64, 10))
    body_data = np.random.randint(num_words, size=(64, 20))
    tags_data = np.random.randint(2, size=(64, num_tags)).astype("float32")
    priority_targets = np.random.random(size=(64, 1))
    dept_targets = np.random.randint(2, size=(64, num_departments))
    history = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=2,
        batch_size=32,
        verbose=0,
    )
    assert all(np.isfinite(history.history["loss"]))
    out = model.predict({"title": title_data[:3], "body": body_data[:3], "tags": tags_data[:3]},
                        verbose=0)
    assert out["priority"].shape == (3, 1) and out["department"].shape == (3, num_departments)


def test_keras_timeseries_classification_transformer_example():
    # keras.io examples/timeseries/timeseries_classification_transformer.py, imports changed;
    # FordA replaced by two classes of noisy waves, the model shrunk, 2 epochs
    rng = np.random.default_rng(2)
    t = np.linspace(0, 4 * np.pi, 24)
    y_all = rng.integers(0, 2, 80)
    x_all = np.sin(t[None] * (1 + y_all[:, None])) + 0.3 * rng.normal(size=(80, 24))
    x_train, y_train = x_all[:64].reshape((64, 24, 1)), y_all[:64]
    x_test, y_test = x_all[64:].reshape((16, 24, 1)), y_all[64:]
    n_classes = len(np.unique(y_train))
    idx = np.random.permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]
    y_train[y_train == -1] = 0
    y_test[y_test == -1] = 0

    def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
        # Attention and Normalization
        x = layers.MultiHeadAttention(
            key_dim=head_size, num_heads=num_heads, dropout=dropout
        )(inputs, inputs)
        x = layers.Dropout(dropout)(x)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
        res = x + inputs

        # Feed Forward Part
        x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
        x = layers.Dropout(dropout)(x)
        x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
        x = layers.Dropout(dropout)(x)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
        return x + res

    def build_model(input_shape, head_size, num_heads, ff_dim, num_transformer_blocks,
                    mlp_units, dropout=0, mlp_dropout=0):
        inputs = keras.Input(shape=input_shape)
        x = inputs
        for _ in range(num_transformer_blocks):
            x = transformer_encoder(x, head_size, num_heads, ff_dim, dropout)

        x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
        for dim in mlp_units:
            x = layers.Dense(dim, activation="relu")(x)
            x = layers.Dropout(mlp_dropout)(x)
        outputs = layers.Dense(n_classes, activation="softmax")(x)
        return keras.Model(inputs, outputs)

    input_shape = x_train.shape[1:]
    model = build_model(input_shape, head_size=8, num_heads=2, ff_dim=4,
                        num_transformer_blocks=2, mlp_units=[16], mlp_dropout=0.4,
                        dropout=0.25)
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        metrics=["sparse_categorical_accuracy"],
    )
    model.summary()
    callbacks = [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)]
    history = model.fit(x_train, y_train, validation_split=0.2, epochs=2, batch_size=16,
                        callbacks=callbacks, verbose=0)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert np.isfinite(loss) and 0 <= acc <= 1


def test_keras_image_classification_with_vision_transformer_example(tmp_path):
    # keras.io examples/vision/image_classification_with_vision_transformer.py, imports
    # changed; CIFAR-100 replaced by random 8x8 images, the model shrunk, one epoch
    num_classes = 10
    input_shape = (8, 8, 3)
    rng = np.random.default_rng(3)
    x_train = rng.uniform(0, 255, (40, 8, 8, 3)).astype("float32")
    y_train = rng.integers(0, num_classes, (40, 1))
    x_test, y_test = x_train[:8], y_train[:8]

    learning_rate = 0.001
    weight_decay = 0.0001
    batch_size = 16
    num_epochs = 1
    image_size = 12  # We'll resize input images to this size
    patch_size = 4  # Size of the patches to be extract from the input images
    num_patches = (image_size // patch_size) ** 2
    projection_dim = 8
    num_heads = 2
    transformer_units = [projection_dim * 2, projection_dim]
    transformer_layers = 2
    mlp_head_units = [16, 8]

    data_augmentation = keras.Sequential(
        [
            layers.Normalization(),
            layers.Resizing(image_size, image_size),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(factor=0.02),
            layers.RandomZoom(height_factor=0.2, width_factor=0.2),
        ],
        name="data_augmentation",
    )
    data_augmentation.layers[0].adapt(x_train)

    def mlp(x, hidden_units, dropout_rate):
        for units in hidden_units:
            x = layers.Dense(units, activation=keras.activations.gelu)(x)
            x = layers.Dropout(dropout_rate)(x)
        return x

    class Patches(layers.Layer):
        def __init__(self, patch_size):
            super().__init__()
            self.patch_size = patch_size

        def call(self, images):
            input_shape = ops.shape(images)
            batch_size = input_shape[0]
            height = input_shape[1]
            width = input_shape[2]
            channels = input_shape[3]
            num_patches_h = height // self.patch_size
            num_patches_w = width // self.patch_size
            patches = keras.ops.image.extract_patches(images, size=self.patch_size)
            patches = ops.reshape(
                patches,
                (
                    batch_size,
                    num_patches_h * num_patches_w,
                    self.patch_size * self.patch_size * channels,
                ),
            )
            return patches

        def get_config(self):
            config = super().get_config()
            config.update({"patch_size": self.patch_size})
            return config

    image = x_train[np.random.choice(range(x_train.shape[0]))]
    resized_image = ops.image.resize(
        ops.convert_to_tensor([image]), size=(image_size, image_size)
    )
    patches = Patches(patch_size)(resized_image)
    assert tuple(patches.shape) == (1, num_patches, patch_size * patch_size * 3)

    class PatchEncoder(layers.Layer):
        def __init__(self, num_patches, projection_dim):
            super().__init__()
            self.num_patches = num_patches
            self.projection = layers.Dense(units=projection_dim)
            self.position_embedding = layers.Embedding(
                input_dim=num_patches, output_dim=projection_dim
            )

        def call(self, patch):
            positions = ops.expand_dims(
                ops.arange(start=0, stop=self.num_patches, step=1), axis=0
            )
            projected_patches = self.projection(patch)
            encoded = projected_patches + self.position_embedding(positions)
            return encoded

        def get_config(self):
            config = super().get_config()
            config.update({"num_patches": self.num_patches})
            return config

    def create_vit_classifier():
        inputs = keras.Input(shape=input_shape)
        # Augment data.
        augmented = data_augmentation(inputs)
        # Create patches.
        patches = Patches(patch_size)(augmented)
        # Encode patches.
        encoded_patches = PatchEncoder(num_patches, projection_dim)(patches)

        # Create multiple layers of the Transformer block.
        for _ in range(transformer_layers):
            # Layer normalization 1.
            x1 = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
            # Create a multi-head attention layer.
            attention_output = layers.MultiHeadAttention(
                num_heads=num_heads, key_dim=projection_dim, dropout=0.1
            )(x1, x1)
            # Skip connection 1.
            x2 = layers.Add()([attention_output, encoded_patches])
            # Layer normalization 2.
            x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
            # MLP.
            x3 = mlp(x3, hidden_units=transformer_units, dropout_rate=0.1)
            # Skip connection 2.
            encoded_patches = layers.Add()([x3, x2])

        # Create a [batch_size, projection_dim] tensor.
        representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
        representation = layers.Flatten()(representation)
        representation = layers.Dropout(0.5)(representation)
        # Add MLP.
        features = mlp(representation, hidden_units=mlp_head_units, dropout_rate=0.5)
        # Classify outputs.
        logits = layers.Dense(num_classes)(features)
        # Create the Keras model.
        model = keras.Model(inputs=inputs, outputs=logits)
        return model

    def run_experiment(model):
        optimizer = keras.optimizers.AdamW(
            learning_rate=learning_rate, weight_decay=weight_decay
        )

        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[
                keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                keras.metrics.SparseTopKCategoricalAccuracy(5, name="top-5-accuracy"),
            ],
        )

        checkpoint_filepath = str(tmp_path / "checkpoint.weights.h5")
        checkpoint_callback = keras.callbacks.ModelCheckpoint(
            checkpoint_filepath,
            monitor="val_accuracy",
            save_best_only=True,
            save_weights_only=True,
        )

        history = model.fit(
            x=x_train,
            y=y_train,
            batch_size=batch_size,
            epochs=num_epochs,
            validation_split=0.1,
            callbacks=[checkpoint_callback],
            verbose=0,
        )

        model.load_weights(checkpoint_filepath)
        _, accuracy, top_5_accuracy = model.evaluate(x_test, y_test, verbose=0)
        return history, accuracy, top_5_accuracy

    vit_classifier = create_vit_classifier()
    history, accuracy, top_5_accuracy = run_experiment(vit_classifier)
    assert set(history.history) == {"loss", "accuracy", "top-5-accuracy", "val_loss",
                                    "val_accuracy", "val_top-5-accuracy"}
    assert 0 <= accuracy <= top_5_accuracy <= 1
    assert vit_classifier.output_shape == (None, num_classes)


def test_keras_lstm_seq2seq_example(tmp_path):
    # keras.io examples/nlp/lstm_seq2seq.py (character-level English-French), imports changed;
    # the fra-eng file replaced by a few made-up pairs, latent_dim shrunk, 2 epochs
    pairs = [("go on.", "vas-y !"), ("hi there.", "salut !"), ("run!", "cours !"), ("wow!", "ça alors !"),
             ("fire!", "au feu !"), ("help!", "à l'aide !"), ("stop!", "arrête !"),
             ("wait!", "attends !")] * 2
    latent_dim = 16
    input_texts = []
    target_texts = []
    input_characters = set()
    target_characters = set()
    for input_text, target_text in pairs:
        # We use "tab" as the "start sequence" character
        # for the targets, and "\n" as "end sequence" character.
        target_text = "\t" + target_text + "\n"
        input_texts.append(input_text)
        target_texts.append(target_text)
        for char in input_text:
            if char not in input_characters:
                input_characters.add(char)
        for char in target_text:
            if char not in target_characters:
                target_characters.add(char)

    input_characters = sorted(list(input_characters))
    target_characters = sorted(list(target_characters))
    num_encoder_tokens = len(input_characters)
    num_decoder_tokens = len(target_characters)
    max_encoder_seq_length = max([len(txt) for txt in input_texts])
    max_decoder_seq_length = max([len(txt) for txt in target_texts])

    input_token_index = dict([(char, i) for i, char in enumerate(input_characters)])
    target_token_index = dict([(char, i) for i, char in enumerate(target_characters)])

    encoder_input_data = np.zeros(
        (len(input_texts), max_encoder_seq_length, num_encoder_tokens),
        dtype="float32",
    )
    decoder_input_data = np.zeros(
        (len(input_texts), max_decoder_seq_length, num_decoder_tokens),
        dtype="float32",
    )
    decoder_target_data = np.zeros(
        (len(input_texts), max_decoder_seq_length, num_decoder_tokens),
        dtype="float32",
    )

    for i, (input_text, target_text) in enumerate(zip(input_texts, target_texts)):
        for t, char in enumerate(input_text):
            encoder_input_data[i, t, input_token_index[char]] = 1.0
        encoder_input_data[i, t + 1 :, input_token_index[" "]] = 1.0
        for t, char in enumerate(target_text):
            # decoder_target_data is ahead of decoder_input_data by one timestep
            decoder_input_data[i, t, target_token_index[char]] = 1.0
            if t > 0:
                # decoder_target_data will be ahead by one timestep
                # and will not include the start character.
                decoder_target_data[i, t - 1, target_token_index[char]] = 1.0
        decoder_input_data[i, t + 1 :, target_token_index[" "]] = 1.0
        decoder_target_data[i, t:, target_token_index[" "]] = 1.0

    # Define an input sequence and process it.
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)

    # We discard `encoder_outputs` and only keep the states.
    encoder_states = [state_h, state_c]

    # Set up the decoder, using `encoder_states` as initial state.
    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))

    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)

    model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        [encoder_input_data, decoder_input_data],
        decoder_target_data,
        batch_size=8,
        epochs=2,
        validation_split=0.2,
        verbose=0,
    )
    # Save model
    model.save(str(tmp_path / "s2s_model.keras"))

    # Define sampling models
    # Restore the model and construct the encoder and decoder.
    model = keras.models.load_model(str(tmp_path / "s2s_model.keras"))

    encoder_inputs = model.input[0]  # input_1
    encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output  # lstm_1
    encoder_states = [state_h_enc, state_c_enc]
    encoder_model = keras.Model(encoder_inputs, encoder_states)

    decoder_inputs = model.input[1]  # input_2
    decoder_state_input_h = keras.Input(shape=(latent_dim,))
    decoder_state_input_c = keras.Input(shape=(latent_dim,))
    decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
    decoder_lstm = model.layers[3]
    decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(
        decoder_inputs, initial_state=decoder_states_inputs
    )
    decoder_states = [state_h_dec, state_c_dec]
    decoder_dense = model.layers[4]
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = keras.Model(
        [decoder_inputs] + decoder_states_inputs, [decoder_outputs] + decoder_states
    )

    # Reverse-lookup token index to decode sequences back to
    # something readable.
    reverse_target_char_index = dict((i, char) for char, i in target_token_index.items())

    def decode_sequence(input_seq):
        # Encode the input as state vectors.
        states_value = encoder_model.predict(input_seq, verbose=0)

        # Generate empty target sequence of length 1.
        target_seq = np.zeros((1, 1, num_decoder_tokens))
        # Populate the first character of target sequence with the start character.
        target_seq[0, 0, target_token_index["\t"]] = 1.0

        # Sampling loop for a batch of sequences
        # (to simplify, here we assume a batch of size 1).
        stop_condition = False
        decoded_sentence = ""
        while not stop_condition:
            output_tokens, h, c = decoder_model.predict(
                [target_seq] + states_value, verbose=0
            )

            # Sample a token
            sampled_token_index = np.argmax(output_tokens[0, -1, :])
            sampled_char = reverse_target_char_index[sampled_token_index]
            decoded_sentence += sampled_char

            # Exit condition: either hit max length
            # or find stop character.
            if sampled_char == "\n" or len(decoded_sentence) > max_decoder_seq_length:
                stop_condition = True

            # Update the target sequence (of length 1).
            target_seq = np.zeros((1, 1, num_decoder_tokens))
            target_seq[0, 0, sampled_token_index] = 1.0

            # Update states
            states_value = [h, c]
        return decoded_sentence

    for seq_index in range(2):
        input_seq = encoder_input_data[seq_index : seq_index + 1]
        decoded_sentence = decode_sequence(input_seq)
        assert 1 <= len(decoded_sentence) <= max_decoder_seq_length + 1
        assert set(decoded_sentence) <= set(target_characters)
    # the restored decoder, fed the whole teacher-forced target, matches the trained model
    full = model.predict([encoder_input_data[:2], decoder_input_data[:2]], verbose=0)
    states = encoder_model.predict(encoder_input_data[:2], verbose=0)
    step_out = decoder_model.predict([decoder_input_data[:2]] + states, verbose=0)[0]
    np.testing.assert_allclose(step_out, full, rtol=1e-5, atol=1e-6)


def test_keras_working_with_rnns_guide():
    # keras.io guides/working_with_rnns.py, imports changed, sizes shrunk, MNIST replaced by
    # random 28x28 sequences; all but its last section (a cell over nested inputs with
    # multi-axis states, which mgp's RNN does not take)
    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=100, output_dim=8))
    model.add(layers.LSTM(16))
    model.add(layers.Dense(10))
    model.summary()
    assert model(np.array([[1, 2, 3]])).shape == (1, 10)

    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=100, output_dim=8))
    # The output of GRU will be a 3D tensor of shape (batch_size, timesteps, 256)
    model.add(layers.GRU(12, return_sequences=True))
    # The output of SimpleRNN will be a 2D tensor of shape (batch_size, 128)
    model.add(layers.SimpleRNN(6))
    model.add(layers.Dense(10))
    model.summary()
    assert model(np.array([[1, 2, 3, 4]])).shape == (1, 10)

    encoder_vocab = 100
    decoder_vocab = 200
    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=8)(encoder_input)
    # Return states in addition to output
    output, state_h, state_c = layers.LSTM(8, return_state=True, name="encoder")(
        encoder_embedded
    )
    encoder_state = [state_h, state_c]
    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=8)(decoder_input)
    # Pass the 2 states to a new LSTM layer, as initial state
    decoder_output = layers.LSTM(8, name="decoder")(decoder_embedded, initial_state=encoder_state)
    output = layers.Dense(10)(decoder_output)
    model = keras.Model([encoder_input, decoder_input], output)
    model.summary()
    assert model.predict([np.ones((2, 5)), np.ones((2, 7))], verbose=0).shape == (2, 10)

    # Cross-batch statefulness
    paragraph1 = np.random.random((4, 10, 5)).astype(np.float32)
    paragraph2 = np.random.random((4, 10, 5)).astype(np.float32)
    paragraph3 = np.random.random((4, 10, 5)).astype(np.float32)
    lstm_layer = layers.LSTM(8, stateful=True)
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)
    output = lstm_layer(paragraph3)
    # the state carried over: a fresh run on paragraph3 alone differs
    carried = np.asarray(output)
    lstm_layer.reset_states()
    fresh = np.asarray(lstm_layer(paragraph3))
    assert not np.allclose(carried, fresh)

    # RNN State Reuse
    lstm_layer = layers.LSTM(8, stateful=True)
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)
    existing_state = lstm_layer.states
    new_lstm_layer = layers.LSTM(8)
    new_output = new_lstm_layer(paragraph3, initial_state=existing_state)
    assert new_output.shape == (4, 8)

    # Bidirectional RNNs
    model = keras.Sequential()
    model.add(layers.Bidirectional(layers.LSTM(8, return_sequences=True), input_shape=(5, 10)))
    model.add(layers.Bidirectional(layers.LSTM(4)))
    model.add(layers.Dense(10))
    model.summary()
    assert model.output_shape == (None, 10)
    assert model.layers[0].output.shape == (None, 5, 16)

    # the LSTM layer and RNN(LSTMCell) share weights and results
    batch_size = 16
    input_dim = 28
    units = 8
    output_size = 10  # labels are from 0 to 9

    def build_model(allow_cudnn_kernel=True):
        if allow_cudnn_kernel:
            lstm_layer = keras.layers.LSTM(units, input_shape=(None, input_dim))
        else:
            lstm_layer = keras.layers.RNN(
                keras.layers.LSTMCell(units), input_shape=(None, input_dim)
            )
        model = keras.models.Sequential(
            [
                lstm_layer,
                keras.layers.BatchNormalization(),
                keras.layers.Dense(output_size),
            ]
        )
        return model

    rng = np.random.default_rng(4)
    x_train, y_train = rng.random((64, 28, 28)), rng.integers(0, 10, 64)
    x_test, y_test = rng.random((16, 28, 28)), rng.integers(0, 10, 16)
    sample = x_train[0]
    model = build_model(allow_cudnn_kernel=True)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, validation_data=(x_test, y_test), batch_size=batch_size,
              epochs=1, verbose=0)
    noncudnn_model = build_model(allow_cudnn_kernel=False)
    noncudnn_model.set_weights(model.get_weights())
    np.testing.assert_allclose(noncudnn_model.predict_on_batch(np.expand_dims(sample, 0)),
                               model.predict_on_batch(np.expand_dims(sample, 0)),
                               rtol=1e-5, atol=1e-6)


def test_keras_understanding_masking_and_padding_guide():
    # keras.io guides/understanding_masking_and_padding.py, imports changed, sizes shrunk
    raw_inputs = [
        [711, 632, 71],
        [73, 8, 3215, 55, 927],
        [83, 91, 1, 645, 1253, 927],
    ]
    padded_inputs = keras.utils.pad_sequences(raw_inputs, padding="post")
    assert padded_inputs.tolist()[0] == [711, 632, 71, 0, 0, 0]

    embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
    masked_output = embedding(padded_inputs)
    np.testing.assert_array_equal(np.asarray(masked_output._keras_mask), padded_inputs != 0)

    masking_layer = layers.Masking()
    # Simulate the embedding lookup by expanding the 2D input to 3D,
    # with embedding dimension of 10.
    unmasked_embedding = ops.cast(
        ops.tile(ops.expand_dims(padded_inputs, axis=-1), [1, 1, 10]), "float32"
    )
    masked_embedding = masking_layer(unmasked_embedding)
    np.testing.assert_array_equal(np.asarray(masked_embedding._keras_mask), padded_inputs != 0)

    model = keras.Sequential(
        [
            layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True),
            layers.LSTM(8),
        ]
    )
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    outputs = layers.LSTM(8)(x)
    model = keras.Model(inputs, outputs)
    # the mask makes the padded steps count for nothing: post-padding changes no output
    short = model.predict(np.array([[5, 6, 7]]), verbose=0)
    padded = model.predict(np.array([[5, 6, 7, 0, 0]]), verbose=0)
    np.testing.assert_allclose(short, padded, rtol=1e-5, atol=1e-6)

    class MyLayer(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
            self.lstm = layers.LSTM(8)

        def call(self, inputs):
            x = self.embedding(inputs)
            # Note that you could also prepare a `mask` tensor manually.
            # It only needs to be a boolean tensor
            # with the right shape, i.e. (batch_size, timesteps).
            mask = self.embedding.compute_mask(inputs)
            output = self.lstm(x, mask=mask)  # The layer will ignore the masked values
            return output

    layer = MyLayer()
    x = np.random.random((32, 10)) * 100
    x = x.astype("int32")
    assert layer(x).shape == (32, 8)

    class TemporalSplit(keras.layers.Layer):
        """Split the input tensor into 2 tensors along the time dimension."""

        def call(self, inputs):
            # Expect the input to be 3D and mask to be 2D, split the input tensor into 2
            # subtensors along the time axis (axis 1).
            return ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            # Also split the mask into 2 if it presents.
            if mask is None:
                return None
            return ops.split(mask, 2, axis=1)

    first_half, second_half = TemporalSplit()(masked_embedding)
    np.testing.assert_array_equal(np.asarray(first_half._keras_mask),
                                  padded_inputs[:, :3] != 0)
    np.testing.assert_array_equal(np.asarray(second_half._keras_mask),
                                  padded_inputs[:, 3:] != 0)

    class CustomEmbedding(keras.layers.Layer):
        def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
            super().__init__(**kwargs)
            self.input_dim = input_dim
            self.output_dim = output_dim
            self.mask_zero = mask_zero

        def build(self, input_shape):
            self.embeddings = self.add_weight(
                shape=(self.input_dim, self.output_dim),
                initializer="random_normal",
                dtype="float32",
            )

        def call(self, inputs):
            inputs = ops.cast(inputs, "int32")
            return ops.take(self.embeddings, inputs)

        def compute_mask(self, inputs, mask=None):
            if not self.mask_zero:
                return None
            return ops.not_equal(inputs, 0)

    layer = CustomEmbedding(10, 32, mask_zero=True)
    x = np.random.random((3, 10)) * 9
    x = x.astype("int32")
    y = layer(x)
    mask = layer.compute_mask(x)
    np.testing.assert_array_equal(np.asarray(mask), x != 0)
    # ops.take without an axis reads the flattened table, in Keras as here: one number a token
    np.testing.assert_array_equal(np.asarray(y), layer.embeddings.numpy().ravel()[x])

    class TemporalSoftmax(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None
            broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
            inputs_exp = ops.exp(inputs) * broadcast_float_mask
            inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
            return inputs_exp / inputs_sum

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
    x = layers.Dense(1)(x)
    outputs = TemporalSoftmax()(x)
    model = keras.Model(inputs, outputs)
    tokens = np.random.randint(0, 10, size=(32, 100))
    with np.errstate(invalid="ignore"):  # a masked step's softmax is 0 / 0, in Keras too
        y = model(tokens, np.random.random((32, 100, 1)))
    assert y.shape == (32, 100, 1)
    np.testing.assert_array_equal(np.isnan(np.asarray(y))[..., 0], tokens == 0)


def test_keras_neural_machine_translation_with_transformer_example():
    # keras.io examples/nlp/neural_machine_translation_with_transformer.py, imports changed
    # and its tf.* calls written with keras.ops (tf.cast -> ops.cast, tf.range -> ops.arange,
    # ...); the vectorized English-Spanish pairs replaced by random token ids (0 = padding),
    # sizes shrunk, one epoch
    vocab_size = 30
    sequence_length = 6
    batch_size = 8
    rng = np.random.default_rng(5)

    def random_tokens(n, length):
        tokens = rng.integers(1, vocab_size, (n, length))
        lengths = rng.integers(2, length + 1, n)
        tokens[np.arange(length)[None] >= lengths[:, None]] = 0  # post-padding
        return tokens

    eng = random_tokens(32, sequence_length)
    spa = random_tokens(32, sequence_length + 1)
    train_x = {"encoder_inputs": eng, "decoder_inputs": spa[:, :-1]}
    train_y = spa[:, 1:]

    class TransformerEncoder(layers.Layer):
        def __init__(self, embed_dim, dense_dim, num_heads, **kwargs):
            super().__init__(**kwargs)
            self.embed_dim = embed_dim
            self.dense_dim = dense_dim
            self.num_heads = num_heads
            self.attention = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.dense_proj = keras.Sequential(
                [
                    layers.Dense(dense_dim, activation="relu"),
                    layers.Dense(embed_dim),
                ]
            )
            self.layernorm_1 = layers.LayerNormalization()
            self.layernorm_2 = layers.LayerNormalization()
            self.supports_masking = True

        def call(self, inputs, mask=None):
            if mask is not None:
                padding_mask = ops.cast(mask[:, None, :], dtype="int32")
            attention_output = self.attention(
                query=inputs, value=inputs, key=inputs, attention_mask=padding_mask
            )
            proj_input = self.layernorm_1(inputs + attention_output)
            proj_output = self.dense_proj(proj_input)
            return self.layernorm_2(proj_input + proj_output)

        def get_config(self):
            config = super().get_config()
            config.update({"embed_dim": self.embed_dim, "dense_dim": self.dense_dim,
                           "num_heads": self.num_heads})
            return config

    class PositionalEmbedding(layers.Layer):
        def __init__(self, sequence_length, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_embeddings = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.position_embeddings = layers.Embedding(
                input_dim=sequence_length, output_dim=embed_dim
            )
            self.sequence_length = sequence_length
            self.vocab_size = vocab_size
            self.embed_dim = embed_dim

        def call(self, inputs):
            length = ops.shape(inputs)[-1]
            positions = ops.arange(start=0, stop=length, step=1)
            embedded_tokens = self.token_embeddings(inputs)
            embedded_positions = self.position_embeddings(positions)
            return embedded_tokens + embedded_positions

        def compute_mask(self, inputs, mask=None):
            return ops.not_equal(inputs, 0)

    class TransformerDecoder(layers.Layer):
        def __init__(self, embed_dim, latent_dim, num_heads, **kwargs):
            super().__init__(**kwargs)
            self.embed_dim = embed_dim
            self.latent_dim = latent_dim
            self.num_heads = num_heads
            self.attention_1 = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.attention_2 = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.dense_proj = keras.Sequential(
                [
                    layers.Dense(latent_dim, activation="relu"),
                    layers.Dense(embed_dim),
                ]
            )
            self.layernorm_1 = layers.LayerNormalization()
            self.layernorm_2 = layers.LayerNormalization()
            self.layernorm_3 = layers.LayerNormalization()
            self.supports_masking = True

        def call(self, inputs, encoder_outputs, mask=None):
            causal_mask = self.get_causal_attention_mask(inputs)
            if mask is not None:
                padding_mask = ops.cast(mask[:, None, :], dtype="int32")
                padding_mask = ops.minimum(padding_mask, causal_mask)

            attention_output_1 = self.attention_1(
                query=inputs, value=inputs, key=inputs, attention_mask=causal_mask
            )
            out_1 = self.layernorm_1(inputs + attention_output_1)

            attention_output_2 = self.attention_2(
                query=out_1,
                value=encoder_outputs,
                key=encoder_outputs,
                attention_mask=padding_mask,
            )
            out_2 = self.layernorm_2(out_1 + attention_output_2)

            proj_output = self.dense_proj(out_2)
            return self.layernorm_3(out_2 + proj_output)

        def get_causal_attention_mask(self, inputs):
            input_shape = ops.shape(inputs)
            batch_size, sequence_length = input_shape[0], input_shape[1]
            i = ops.arange(sequence_length)[:, None]
            j = ops.arange(sequence_length)
            mask = ops.cast(i >= j, dtype="int32")
            mask = ops.reshape(mask, (1, input_shape[1], input_shape[1]))
            mult = ops.concatenate(
                [ops.expand_dims(batch_size, -1), ops.convert_to_tensor([1, 1])],
                axis=0,
            )
            return ops.tile(mask, mult)

    embed_dim = 8
    latent_dim = 16
    num_heads = 2

    encoder_inputs = keras.Input(shape=(None,), dtype="int64", name="encoder_inputs")
    x = PositionalEmbedding(sequence_length, vocab_size, embed_dim)(encoder_inputs)
    encoder_outputs = TransformerEncoder(embed_dim, latent_dim, num_heads)(x)
    encoder = keras.Model(encoder_inputs, encoder_outputs)

    decoder_inputs = keras.Input(shape=(None,), dtype="int64", name="decoder_inputs")
    encoded_seq_inputs = keras.Input(shape=(None, embed_dim), name="decoder_state_inputs")
    x = PositionalEmbedding(sequence_length, vocab_size, embed_dim)(decoder_inputs)
    # Keras 3 fills in `mask` only for a layer called with one tensor argument (as mgp does),
    # so the decoder, called with two, is given its padding mask explicitly
    x = TransformerDecoder(embed_dim, latent_dim, num_heads)(
        x, encoded_seq_inputs, mask=ops.not_equal(decoder_inputs, 0))
    x = layers.Dropout(0.5)(x)
    decoder_outputs = layers.Dense(vocab_size, activation="softmax")(x)
    decoder = keras.Model([decoder_inputs, encoded_seq_inputs], decoder_outputs)

    decoder_outputs = decoder([decoder_inputs, encoder_outputs])
    transformer = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs,
                              name="transformer")

    epochs = 1  # This should be at least 30 for convergence
    transformer.summary()
    transformer.compile("rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = transformer.fit(train_x, train_y, batch_size=batch_size, epochs=epochs,
                              validation_data=(train_x, train_y), verbose=0)
    assert np.isfinite(history.history["val_loss"][0])

    # decoding, as the example's decode_sequence does it, from token ids
    tokenized_input_sentence = eng[:1]
    decoded = [1]
    for i in range(sequence_length - 1):
        tokenized_target_sentence = np.array([decoded + [0] * (sequence_length - len(decoded))])
        predictions = transformer([tokenized_input_sentence, tokenized_target_sentence])
        sampled_token_index = np.argmax(predictions[0, i, :])
        decoded.append(int(sampled_token_index))
    assert len(decoded) == sequence_length and all(0 <= t < vocab_size for t in decoded)

    # the causal mask: a step's prediction does not depend on later target tokens (unpadded
    # targets: a padded query step attends to every step, in Keras as here)
    target = rng.integers(1, vocab_size, (2, sequence_length))
    before = np.asarray(transformer([eng[:2], target]))
    target[:, -1] = (target[:, -1] % (vocab_size - 1)) + 1
    after = np.asarray(transformer([eng[:2], target]))
    np.testing.assert_allclose(before[:, :-1], after[:, :-1], rtol=1e-5, atol=1e-6)
    assert not np.allclose(before[:, -1], after[:, -1])
    assert encoder.output_shape == (None, None, embed_dim)


def test_keras_addition_rnn_example():
    # keras.io examples/nlp/addition_rnn.py (sequence to sequence learning for addition),
    # imports changed, fewer questions, smaller LSTMs, one epoch
    TRAINING_SIZE = 200
    DIGITS = 2
    REVERSE = True
    MAXLEN = DIGITS + 1 + DIGITS

    class CharacterTable:
        """Given a set of characters:
        + Encode them to a one-hot integer representation
        + Decode the one-hot or integer representation to their character output
        + Decode a vector of probabilities to their character output
        """

        def __init__(self, chars):
            self.chars = sorted(set(chars))
            self.char_indices = {c: i for i, c in enumerate(self.chars)}
            self.indices_char = {i: c for i, c in enumerate(self.chars)}

        def encode(self, C, num_rows):
            x = np.zeros((num_rows, len(self.chars)))
            for i, c in enumerate(C):
                x[i, self.char_indices[c]] = 1
            return x

        def decode(self, x, calc_argmax=True):
            if calc_argmax:
                x = x.argmax(axis=-1)
            return "".join(self.indices_char[x] for x in x)

    chars = "0123456789+ "
    ctable = CharacterTable(chars)
    questions = []
    expected = []
    seen = set()
    rng = np.random.default_rng(6)
    while len(questions) < TRAINING_SIZE:
        f = lambda: int(  # noqa: E731  (the example's own lambda)
            "".join(
                rng.choice(list("0123456789"))
                for i in range(rng.integers(1, DIGITS + 1))
            )
        )
        a, b = f(), f()
        key = tuple(sorted((a, b)))
        if key in seen:
            continue
        seen.add(key)
        q = "{}+{}".format(a, b)
        query = q + " " * (MAXLEN - len(q))
        ans = str(a + b)
        ans += " " * (DIGITS + 1 - len(ans))
        if REVERSE:
            query = query[::-1]
        questions.append(query)
        expected.append(ans)

    x = np.zeros((len(questions), MAXLEN, len(chars)), dtype=bool)
    y = np.zeros((len(questions), DIGITS + 1, len(chars)), dtype=bool)
    for i, sentence in enumerate(questions):
        x[i] = ctable.encode(sentence, MAXLEN)
    for i, sentence in enumerate(expected):
        y[i] = ctable.encode(sentence, DIGITS + 1)
    indices = np.arange(len(y))
    np.random.shuffle(indices)
    x = x[indices]
    y = y[indices]
    split_at = len(x) - len(x) // 10
    (x_train, x_val) = x[:split_at], x[split_at:]
    (y_train, y_val) = y[:split_at], y[split_at:]

    num_layers = 1  # Try to add more LSTM layers!
    model = keras.Sequential()
    # "Encode" the input sequence using a LSTM, producing an output of size 128.
    model.add(layers.Input((MAXLEN, len(chars))))
    model.add(layers.LSTM(16))
    # As the decoder RNN's input, repeatedly provide with the last output of
    # RNN for each time step. Repeat 'DIGITS + 1' times as that's the maximum
    # length of output, e.g., when DIGITS=3, max output is 999+999=1998.
    model.add(layers.RepeatVector(DIGITS + 1))
    # The decoder RNN could be multiple layers stacked or a single layer.
    for _ in range(num_layers):
        model.add(layers.LSTM(16, return_sequences=True))
    # Apply a dense layer to the every temporal slice of an input. For each of step
    # of the output sequence, decide which character should be chosen.
    model.add(layers.Dense(len(chars), activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.summary()

    epochs = 2
    batch_size = 32
    for epoch in range(1, epochs):
        history = model.fit(x_train, y_train, batch_size=batch_size, epochs=1,
                            validation_data=(x_val, y_val), verbose=0)
        assert np.isfinite(history.history["val_loss"][0])
        # Select 10 samples from the validation set at random so we can visualize errors.
        for i in range(3):
            ind = np.random.randint(0, len(x_val))
            rowx, rowy = x_val[np.array([ind])], y_val[np.array([ind])]
            preds = np.argmax(model.predict(rowx, verbose=0), axis=-1)
            q = ctable.decode(rowx[0])
            correct = ctable.decode(rowy[0])
            guess = ctable.decode(preds[0], calc_argmax=False)
            assert len(q) == MAXLEN and len(correct) == len(guess) == DIGITS + 1


def test_keras_video_classification_example():
    # keras.io examples/vision/video_classification.py (CNN-RNN), imports changed; the UCF101
    # videos replaced by random frames, the ImageNet weights by none, the sizes shrunk
    IMG_SIZE = 75
    MAX_SEQ_LENGTH = 4
    NUM_FEATURES = 2048
    rng = np.random.default_rng(7)

    def build_feature_extractor():
        feature_extractor = keras.applications.InceptionV3(
            weights=None,
            include_top=False,
            pooling="avg",
            input_shape=(IMG_SIZE, IMG_SIZE, 3),
        )
        preprocess_input = keras.applications.inception_v3.preprocess_input

        inputs = keras.Input((IMG_SIZE, IMG_SIZE, 3))
        preprocessed = preprocess_input(inputs)

        outputs = feature_extractor(preprocessed)
        return keras.Model(inputs, outputs, name="feature_extractor")

    feature_extractor = build_feature_extractor()

    def prepare_all_videos(videos):
        num_samples = len(videos)
        frame_masks = np.zeros(shape=(num_samples, MAX_SEQ_LENGTH), dtype="bool")
        frame_features = np.zeros(
            shape=(num_samples, MAX_SEQ_LENGTH, NUM_FEATURES), dtype="float32"
        )
        for idx, frames in enumerate(videos):
            frames = frames[None, ...]
            temp_frame_mask = np.zeros(shape=(1, MAX_SEQ_LENGTH), dtype="bool")
            temp_frame_features = np.zeros(
                shape=(1, MAX_SEQ_LENGTH, NUM_FEATURES), dtype="float32"
            )
            for i, batch in enumerate(frames):
                video_length = batch.shape[0]
                length = min(MAX_SEQ_LENGTH, video_length)
                for j in range(length):
                    temp_frame_features[i, j, :] = feature_extractor.predict(
                        batch[None, j, :], verbose=0,
                    )
                temp_frame_mask[i, :length] = 1  # 1 = not masked, 0 = masked
            frame_features[idx,] = temp_frame_features.squeeze()
            frame_masks[idx,] = temp_frame_mask.squeeze()
        return (frame_features, frame_masks)

    # videos of 2 to 4 frames: the shorter ones leave masked steps
    videos = [rng.uniform(0, 255, (n, IMG_SIZE, IMG_SIZE, 3)).astype("float32")
              for n in (2, 4, 3)]
    train_data, train_mask = prepare_all_videos(videos)
    train_labels = np.array([0, 1, 2])
    class_vocab = ["a", "b", "c"]
    assert train_mask.sum(axis=1).tolist() == [2, 4, 3]

    def get_sequence_model():
        frame_features_input = keras.Input((MAX_SEQ_LENGTH, NUM_FEATURES))
        mask_input = keras.Input((MAX_SEQ_LENGTH,), dtype="bool")
        # Refer to the following tutorial to understand the significance of using `mask`:
        # https://keras.io/api/layers/recurrent_layers/gru/
        x = keras.layers.GRU(16, return_sequences=True)(frame_features_input, mask=mask_input)
        x = keras.layers.GRU(8)(x)
        x = keras.layers.Dropout(0.4)(x)
        x = keras.layers.Dense(8, activation="relu")(x)
        output = keras.layers.Dense(len(class_vocab), activation="softmax")(x)
        rnn_model = keras.Model([frame_features_input, mask_input], output)
        rnn_model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                          metrics=["accuracy"])
        return rnn_model

    seq_model = get_sequence_model()
    history = seq_model.fit([train_data, train_mask], train_labels, validation_split=0.0,
                            epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    # the mask makes the padded frames count for nothing
    probs = seq_model.predict([train_data, train_mask], verbose=0)
    noisy = train_data.copy()
    noisy[~train_mask] = 1.0
    np.testing.assert_allclose(seq_model.predict([noisy, train_mask], verbose=0), probs,
                               rtol=1e-5, atol=1e-6)


def test_keras_timeseries_weather_forecasting_example(tmp_path, monkeypatch):
    # keras.io examples/timeseries/timeseries_weather_forecasting.py, imports changed; the Jena
    # climate CSV (read with pandas there) replaced by 7 noisy seasonal NumPy columns, tf.data's
    # `dataset.take(n)` by plain iteration; sizes shrunk
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(8)
    t = np.arange(1200, dtype="float64")
    features = np.stack([np.sin(t / (20 + 5 * k)) + 0.1 * rng.normal(size=t.shape)
                         for k in range(7)], axis=1)

    split_fraction = 0.715
    train_split = int(split_fraction * int(features.shape[0]))
    step = 6
    past = 72
    future = 12
    learning_rate = 0.001
    batch_size = 64
    epochs = 2

    def normalize(data, train_split):
        data_mean = data[:train_split].mean(axis=0)
        data_std = data[:train_split].std(axis=0)
        return (data - data_mean) / data_std

    features = normalize(features, train_split)
    train_data = features[0:train_split]
    val_data = features[train_split:]

    start = past + future
    end = start + train_split
    x_train = train_data[:, [i for i in range(7)]]
    y_train = features[start:end][:, [1]]
    sequence_length = int(past / step)
    dataset_train = keras.preprocessing.timeseries_dataset_from_array(
        x_train,
        y_train,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    x_end = len(val_data) - past - future
    label_start = train_split + past + future
    x_val = val_data[:x_end][:, [i for i in range(7)]]
    y_val = features[label_start:][:, [1]]
    dataset_val = keras.preprocessing.timeseries_dataset_from_array(
        x_val,
        y_val,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    for batch in dataset_train:
        inputs, targets = batch
        break
    assert tuple(inputs.shape) == (batch_size, sequence_length, 7)
    assert tuple(targets.shape) == (batch_size, 1)

    inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
    lstm_out = keras.layers.LSTM(8)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    model.summary()

    path_checkpoint = "model_checkpoint.weights.h5"
    es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)
    modelckpt_callback = keras.callbacks.ModelCheckpoint(
        monitor="val_loss",
        filepath=path_checkpoint,
        verbose=0,
        save_weights_only=True,
        save_best_only=True,
    )
    history = model.fit(
        dataset_train,
        epochs=epochs,
        validation_data=dataset_val,
        callbacks=[es_callback, modelckpt_callback],
        verbose=0,
    )
    assert len(history.history["val_loss"]) == epochs
    assert (tmp_path / path_checkpoint).exists()

    for x, y in dataset_val:
        prediction = model.predict(x, verbose=0)[0]
        assert prediction.shape == (1,) and np.asarray(y)[0].shape == (1,)
        break


def _docstring_examples(keras):
    """The examples of Keras's docstrings for Masking, TimeDistributed, EinsumDense,
    MultiHeadAttention and Bidirectional, as written there (`keras` is the module they run
    on); the shapes they print."""
    layers = keras.layers
    shapes = []
    samples, timesteps, features = 4, 10, 8
    inputs = np.random.default_rng(9).random([samples, timesteps, features]).astype(np.float32)
    inputs[:, 3, :] = 0.0
    inputs[:, 5, :] = 0.0
    model = keras.models.Sequential()
    model.add(keras.layers.Masking(mask_value=0.0))
    model.add(keras.layers.LSTM(6))
    output = model(inputs)
    shapes.append(tuple(output.shape))

    inputs = keras.Input(shape=(10, 12, 12, 3))
    conv_2d_layer = layers.Conv2D(4, (3, 3))
    outputs = layers.TimeDistributed(conv_2d_layer)(inputs)
    shapes.append(tuple(outputs.shape))

    layer = keras.layers.EinsumDense("ab,bc->ac", output_shape=64, bias_axes="c")
    input_tensor = keras.Input(shape=[32])
    shapes.append(tuple(layer(input_tensor).shape))
    layer = keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")
    input_tensor = keras.Input(shape=[32, 128])
    shapes.append(tuple(layer(input_tensor).shape))
    layer = keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")
    input_tensor = keras.Input(shape=[32, 128])
    shapes.append(tuple(layer(input_tensor).shape))
    layer = keras.layers.EinsumDense("...b,bc->...c", output_shape=64, bias_axes="c")
    input_tensor = keras.Input(shape=[32, 128])
    shapes.append(tuple(layer(input_tensor).shape))

    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    target = keras.Input(shape=[8, 16])
    source = keras.Input(shape=[4, 16])
    output_tensor, weights = layer(target, source, return_attention_scores=True)
    shapes.append(tuple(output_tensor.shape))
    # the scores, from a call on arrays: Keras 3.15's symbolic spec of them is (None, 2, 8, 8),
    # its computed scores (and its docstring, and mgp's symbolic ones) (batch, 2, 8, 4)
    _, weights = layer(np.ones((1, 8, 16), "float32"), np.ones((1, 4, 16), "float32"),
                       return_attention_scores=True)
    shapes.append(tuple(weights.shape))
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2, attention_axes=(2, 3))
    input_tensor = keras.Input(shape=[5, 3, 4, 16])
    output_tensor = layer(input_tensor, input_tensor)
    shapes.append(tuple(output_tensor.shape))

    model = keras.Sequential([
        keras.Input(shape=(5, 10)),
        layers.Bidirectional(layers.LSTM(10, return_sequences=True)),
        layers.Bidirectional(layers.LSTM(10)),
        layers.Dense(5, activation="softmax"),
    ])
    shapes.append(model.output_shape)
    # With custom backward layer
    forward_layer = layers.LSTM(10, return_sequences=True)
    backward_layer = layers.LSTM(10, activation="relu", return_sequences=True,
                                 go_backwards=True)
    model = keras.Sequential([
        keras.Input(shape=(5, 10)),
        layers.Bidirectional(forward_layer, backward_layer=backward_layer),
        layers.Dense(5, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
    shapes.append(model.output_shape)
    shapes.append(model.count_params())
    return shapes


def test_keras_sequence_layer_docstring_examples_give_keras_shapes():
    # the examples in the docstrings of Keras's Masking, TimeDistributed, EinsumDense,
    # MultiHeadAttention and Bidirectional, sizes shrunk, run on Keras and on mgp
    k = oracles.keras()
    assert _docstring_examples(keras) == _docstring_examples(k)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    _, weights = layer(keras.Input(shape=[8, 16]), keras.Input(shape=[4, 16]),
                       return_attention_scores=True)
    assert weights.shape == (None, 2, 8, 4)


def test_keras_pretrained_word_embeddings_example():
    # keras.io examples/nlp/pretrained_word_embeddings.py, imports changed; the newsgroup
    # texts and GloVe vectors replaced by made-up sentences and random vectors, sizes shrunk
    rng = np.random.default_rng(10)
    words = ["graphics", "space", "car", "engine", "orbit", "pixel", "render", "rocket",
             "wheel", "model", "the", "a", "is"]
    class_names = ["comp.graphics", "sci.space", "rec.autos"]
    train_samples = [" ".join(rng.choice(words, 12)) for _ in range(24)]
    train_labels = rng.integers(0, 3, 24)
    val_samples, val_labels = train_samples[:8], train_labels[:8]

    vectorizer = layers.TextVectorization(max_tokens=200, output_sequence_length=20)
    vectorizer.adapt(train_samples)
    voc = vectorizer.get_vocabulary()
    word_index = dict(zip(voc, range(len(voc))))
    embeddings_index = {w: rng.normal(size=8).astype("float32") for w in words[:10]}

    num_tokens = len(voc) + 2
    embedding_dim = 8
    hits = 0
    misses = 0
    # Prepare embedding matrix
    embedding_matrix = np.zeros((num_tokens, embedding_dim))
    for word, i in word_index.items():
        embedding_vector = embeddings_index.get(word)
        if embedding_vector is not None:
            # Words not found in embedding index will be all-zeros.
            # This includes the representation for "padding" and "OOV"
            embedding_matrix[i] = embedding_vector
            hits += 1
        else:
            misses += 1
    assert hits == 10 and misses == len(voc) - 10

    from mgp.layers import Embedding

    embedding_layer = Embedding(num_tokens, embedding_dim, trainable=False)
    embedding_layer.build((1,))
    embedding_layer.set_weights([embedding_matrix])

    int_sequences_input = keras.Input(shape=(None,), dtype="int32")
    embedded_sequences = embedding_layer(int_sequences_input)
    x = layers.Conv1D(16, 5, activation="relu")(embedded_sequences)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(16, 5, activation="relu")(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    preds = layers.Dense(len(class_names), activation="softmax")(x)
    model = keras.Model(int_sequences_input, preds)
    model.summary()

    x_train = vectorizer(np.array([[s] for s in train_samples])).numpy()
    x_val = vectorizer(np.array([[s] for s in val_samples])).numpy()
    y_train = np.array(train_labels)
    y_val = np.array(val_labels)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop", metrics=["acc"])
    history = model.fit(x_train, y_train, batch_size=8, epochs=2,
                        validation_data=(x_val, y_val), verbose=0)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    # trainable=False: the pretrained vectors are left as they were
    np.testing.assert_array_equal(embedding_layer.get_weights()[0],
                                  embedding_matrix.astype("float32"))

    string_input = keras.Input(shape=(1,), dtype="string")
    x = vectorizer(string_input)
    preds = model(x)
    end_to_end_model = keras.Model(string_input, preds)
    probabilities = end_to_end_model(keras.ops.convert_to_tensor([["the rocket is in orbit"]]))
    assert class_names[np.argmax(probabilities[0])] in class_names
    np.testing.assert_allclose(np.asarray(probabilities),
                               model.predict(vectorizer(np.array([["the rocket is in orbit"]])),
                                             verbose=0), rtol=1e-6)


def test_keras_preprocessing_namespace_as_keras():
    # the examples read the dataset builders from keras.preprocessing too: the same functions
    # as keras.utils, in Keras as in mgp (smart_resize aside, which mgp does not have yet)
    k = oracles.keras()
    for sub in (None, "image", "sequence"):
        theirs = k.preprocessing if sub is None else getattr(k.preprocessing, sub)
        ours = keras.preprocessing if sub is None else getattr(keras.preprocessing, sub)
        names = {n for n in dir(theirs) if not n.startswith("_")} - {"smart_resize"}
        assert names <= set(dir(ours))
        for n in names:
            if callable(getattr(theirs, n)) and not isinstance(getattr(theirs, n), type(np)):
                assert getattr(ours, n) is getattr(keras.utils, n)


def test_keras_ner_with_transformers_example():
    # keras.io examples/nlp/ner_transformers.py, imports changed; CoNLL-2003 (and its tf.data
    # pipeline) replaced by random token and tag ids padded with 0, sizes shrunk, 2 epochs
    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential(
                [
                    keras.layers.Dense(ff_dim, activation="relu"),
                    keras.layers.Dense(embed_dim),
                ]
            )
            self.layernorm1 = keras.layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = keras.layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = keras.layers.Dropout(rate)
            self.dropout2 = keras.layers.Dropout(rate)

        def call(self, inputs, training=False):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output, training=training)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output, training=training)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = keras.layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = keras.layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, inputs):
            maxlen = ops.shape(inputs)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            position_embeddings = self.pos_emb(positions)
            token_embeddings = self.token_emb(inputs)
            return token_embeddings + position_embeddings

    class NERModel(keras.Model):
        def __init__(self, num_tags, vocab_size, maxlen=128, embed_dim=32, num_heads=2,
                     ff_dim=32):
            super().__init__()
            self.embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
            self.transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
            self.dropout1 = layers.Dropout(0.1)
            self.ff = layers.Dense(ff_dim, activation="relu")
            self.dropout2 = layers.Dropout(0.1)
            self.ff_final = layers.Dense(num_tags, activation="softmax")

        def call(self, inputs, training=False):
            x = self.embedding_layer(inputs)
            x = self.transformer_block(x)
            x = self.dropout1(x, training=training)
            x = self.ff(x)
            x = self.dropout2(x, training=training)
            x = self.ff_final(x)
            return x

    class CustomNonPaddingTokenLoss(keras.losses.Loss):
        def __init__(self, name="custom_ner_loss"):
            super().__init__(name=name)

        def call(self, y_true, y_pred):
            loss_fn = keras.losses.SparseCategoricalCrossentropy(
                from_logits=False, reduction=None
            )
            loss = loss_fn(y_true, y_pred)
            mask = ops.cast((y_true > 0), dtype="float32")
            loss = loss * mask
            return ops.sum(loss) / ops.sum(mask)

    num_tags = 5
    vocab_size = 50
    maxlen = 10
    rng = np.random.default_rng(11)
    lengths = rng.integers(3, maxlen + 1, 32)
    pad = np.arange(maxlen)[None] >= lengths[:, None]
    x_train = rng.integers(2, vocab_size, (32, maxlen))
    y_train = rng.integers(1, num_tags, (32, maxlen))
    x_train[pad] = 0
    y_train[pad] = 0

    ner_model = NERModel(num_tags, vocab_size, maxlen=maxlen, embed_dim=8, num_heads=2,
                         ff_dim=8)
    loss = CustomNonPaddingTokenLoss()
    ner_model.compile(optimizer="adam", loss=loss)
    history = ner_model.fit(x_train, y_train, batch_size=8, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()

    sample_input = x_train[:1]
    output = ner_model.predict(sample_input, verbose=0)
    prediction = np.argmax(output, axis=-1)[0]
    assert prediction.shape == (maxlen,) and output.shape == (1, maxlen, num_tags)

    # the loss counts only the tokens whose tag is not padding
    y_pred = ner_model.predict(x_train[:4], verbose=0)
    per_token = -np.log(np.take_along_axis(y_pred, y_train[:4, :, None], -1)[..., 0])
    keep = y_train[:4] > 0
    np.testing.assert_allclose(float(loss(y_train[:4], y_pred)),
                               per_token[keep].sum() / keep.sum(), rtol=1e-5)
