namespace MlNetMlp
{
    /// <summary>The non-linearity applied after every hidden layer. The output layer has none: its raw output goes
    /// to the loss (softmax for multiclass, sigmoid for binary log-loss, identity for regression).</summary>
    public enum MlpActivation
    {
        /// <summary>No non-linearity: the network is linear (stacked layers collapse to one).</summary>
        Identity = 0,
        /// <summary>max(0, x). He initialisation. The usual default.</summary>
        Relu = 1,
        /// <summary>x for x &gt; 0, 0.01·x otherwise. He initialisation.</summary>
        LeakyRelu = 2,
        /// <summary>Hyperbolic tangent. Glorot initialisation.</summary>
        Tanh = 3,
        /// <summary>Logistic sigmoid 1 / (1 + e^-x). Glorot initialisation.</summary>
        Sigmoid = 4,
        /// <summary>Scaled exponential linear unit (Klambauer et al. 2017): λx for x &gt; 0, λα(eˣ − 1) otherwise
        /// (λ ≈ 1.0507, α ≈ 1.6733). LeCun initialisation. The default: it trains tables better than ReLU.</summary>
        Selu = 5,
    }

    /// <summary>The optimizer that applies the minibatch gradients.</summary>
    public enum MlpOptimizer
    {
        /// <summary>Stochastic gradient descent, optionally with (Nesterov) momentum.</summary>
        Sgd = 0,
        /// <summary>Adam (Kingma &amp; Ba, 2015) with bias correction.</summary>
        Adam = 1,
    }

    /// <summary>How the learning rate changes during training.</summary>
    public enum MlpLearningRateSchedule
    {
        /// <summary>The learning rate stays at <see cref="MlpTrainerOptionsBase.LearningRate"/>.</summary>
        Constant = 0,
        /// <summary>Cosine annealing, updated every minibatch: from the learning rate down to almost 0 at the last
        /// step (Loshchilov &amp; Hutter, 2017, without restarts).</summary>
        Cosine = 1,
        /// <summary>Halve the learning rate when the monitored loss (validation loss when there is validation data,
        /// else training loss) has not improved for two epochs; never below 1/1000 of the initial rate.</summary>
        ReduceOnPlateau = 2,
        /// <summary>Four cosine cycles on a logarithmic time axis (RealMLP's "coslog4"):
        /// 0.5 − 0.5 cos(2π log₂(1 + 15t)) for t from 0 to 1 — each cycle starts at 0 (a warm-up), peaks at the
        /// learning rate and comes back to 0; the cycles get longer, and training ends at 0. The default.</summary>
        CosineLogCycles = 3,
    }

    /// <summary>How the learning rate is shared out over the layers.</summary>
    public enum MlpLearningRateScaling
    {
        /// <summary>Every weight and bias steps with the learning rate.</summary>
        Uniform = 0,
        /// <summary>Each layer's weights step with LearningRate / √(fan-in), biases with 0.1 × LearningRate and the
        /// input scale with 6 × LearningRate: under Adam the neural-tangent parametrization RealMLP uses, so wide
        /// and narrow layers move at comparable speeds.</summary>
        FanIn = 1,
    }

    /// <summary>The loss of the regression MLP (on standardized targets, see <see cref="MlpRegressionTrainer"/>).</summary>
    public enum MlpRegressionLoss
    {
        /// <summary>Half the squared error.</summary>
        Squared = 0,
        /// <summary>Huber loss: squared for errors up to one standard deviation of the training targets, linear
        /// beyond, so that outliers pull less.</summary>
        Huber = 1,
    }

    /// <summary>The loss of the binary MLP.</summary>
    public enum MlpBinaryLoss
    {
        /// <summary>Sigmoid + cross-entropy (logistic loss); <c>Probability</c> is the sigmoid of the score.</summary>
        LogLoss = 0,
        /// <summary>Hinge loss max(0, 1 - y·score) with y = ±1 (the SVM loss); the score is a margin, and
        /// <c>Probability</c> comes from a Platt calibration fitted on the training margins.</summary>
        Hinge = 1,
    }

    /// <summary>Where the training rows live while the trainer runs.</summary>
    public enum MlpDataMode
    {
        /// <summary>In memory (the compact copy: dense rows, or CSR for sparse ones) when it fits a quarter of the
        /// memory available to the process, else streamed; the choice and its numbers are logged.</summary>
        Auto = 0,
        /// <summary>Read once into memory (fastest when it fits).</summary>
        InMemory = 1,
        /// <summary>Read from the data view again on every epoch, in minibatches filled on a second thread: memory stays
        /// at a sample, two minibatches and the shuffle pool, whatever the data size.</summary>
        Streaming = 2,
    }

    /// <summary>How the ranks of data-parallel training (<see cref="MlpTrainerOptionsBase.Communicator"/>) divide the
    /// training rows.</summary>
    public enum MlpDataSharding
    {
        /// <summary>Every rank reads every row and trains on its share of each global minibatch: the ranks see the
        /// minibatches one process would, at the memory (or reading time, streamed) of all rows per rank.</summary>
        Replicated = 0,
        /// <summary>Every rank passes the same data and reads only its shard: the rows whose row id hashes to its rank
        /// (disjoint, together every row), in memory or streamed. Each epoch every rank reshuffles its shard, and every
        /// global minibatch takes a share from each shard in proportion to its size. The input preprocessing is fitted
        /// on rank 0's shard and broadcast; row counts, missing-value counts and target statistics are reduced.</summary>
        ByRowId = 1,
        /// <summary>The data each rank passes are already its own shard (its own files, say): disjoint, together the
        /// training set; otherwise as <see cref="ByRowId"/>. The shards must share the schema (feature width and class
        /// count are checked) and the label keys: map labels to keys from the same list on every rank.</summary>
        PrePartitioned = 2,
    }

    /// <summary>The arithmetic of the training GEMMs (<see cref="MlpTrainerOptionsBase.Precision"/>).</summary>
    public enum MlpPrecision
    {
        /// <summary>float32 throughout.</summary>
        Float32 = 0,
        /// <summary>The GEMMs of training (forward, weight and input gradients) run on bfloat16 copies of the weights and
        /// activations with float32 accumulation, the mixed-precision recipe of PyTorch autocast and oneDNN; weights,
        /// gradients and optimizer state stay float32, and model.zip stores float32 weights. Needs AVX512_BF16 (AMD Zen 4
        /// and Zen 5, Intel Sapphire Rapids): elsewhere training logs a warning and runs in float32. Thin layers (16
        /// units or fewer: the output layer) stay float32.</summary>
        BFloat16 = 1,
    }
}
