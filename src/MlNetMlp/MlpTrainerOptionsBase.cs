using System;
using System.Threading;
using Microsoft.ML.Trainers;

namespace MlNetMlp
{
    /// <summary>Options shared by the MlNetMlp trainers. The defaults follow RealMLP-TD-S (Holzmüller et al., NeurIPS
    /// 2024) and were chosen on a suite of 14 classic tables and Fashion-MNIST (see the README); options left null
    /// are chosen from the data's size.</summary>
    public abstract class MlpTrainerOptionsBase : TrainerInputBaseWithWeight
    {
        /// <summary>Scale the features inside the trainer (fitted on the training rows, saved in the model, applied at
        /// scoring and in the ONNX export): each column is centred on its median, divided by its interquartile range
        /// and smoothly clipped to (-3, 3) with <c>z / sqrt(1 + (z/3)²)</c>, so raw columns in any units (or with
        /// outliers) train alike. Missing values are imputed either way. Default: true. Set false only for features
        /// that are already scaled the way you want.</summary>
        /// <remarks>Hides ML.NET's entry-point-only field of the same name; this one is the trainer's public option.</remarks>
        public new bool NormalizeFeatures = true;

        /// <summary>Widths of the hidden layers, input side first. Empty means no hidden layer: a linear model
        /// (softmax / logistic / linear regression). Default (null): three layers of 128 for an ensemble (the
        /// default), three layers of 256 for a single network (<see cref="EnsembleSize"/> = 1), one layer of 64 for wide
        /// sparse inputs (<see cref="WideSparseInputs"/>).</summary>
        public int[] HiddenLayerSizes;

        /// <summary>Non-linearity after each hidden layer. Default: <see cref="MlpActivation.Selu"/>.</summary>
        public MlpActivation Activation = MlpActivation.Selu;

        /// <summary>Networks trained side by side (different initial weights and minibatch orders, the same data) whose
        /// outputs the model averages: probabilities for multiclass, raw outputs otherwise. Each costs as much as
        /// one network, in training and scoring; with several, each member runs on one thread. In [1, 64]. Default
        /// (null): <see cref="AutomaticEnsembleSize"/> networks of three layers of 128 (on the table suite four such
        /// networks cut the error by about 9% against one network of 256, in about the same time); 1 for a model
        /// without hidden layers and for wide sparse inputs (<see cref="WideSparseInputs"/>).</summary>
        public int? EnsembleSize;

        /// <summary>The ensemble size when <see cref="EnsembleSize"/> is null.</summary>
        public const int AutomaticEnsembleSize = 4;

        /// <summary>Gradient-descent method. Default: <see cref="MlpOptimizer.Adam"/>.</summary>
        public MlpOptimizer Optimizer = MlpOptimizer.Adam;

        /// <summary>Peak step size. Default (null): 0.04 for classification and 0.07 for regression with
        /// <see cref="MlpLearningRateScaling.FanIn"/> (RealMLP's rates), 0.002 with Adam and uniform rates, 0.05 with
        /// SGD.</summary>
        public float? LearningRate;

        /// <summary>How the learning rate is shared out over the layers. Default (null):
        /// <see cref="MlpLearningRateScaling.FanIn"/> with Adam, <see cref="MlpLearningRateScaling.Uniform"/> with SGD.</summary>
        public MlpLearningRateScaling? LearningRateScaling;

        /// <summary>Train a per-feature scale in front of the first layer (RealMLP's scaling layer; it is folded into
        /// the first layer's weights, so scoring costs nothing more). Default (null): on, off for wide sparse inputs
        /// (see <see cref="WideSparseInputs"/>), where it doubled the fit time without changing the accuracy.</summary>
        public bool? InputScale;

        /// <summary>Sparse features (stored as CSR, at most 10% non-zero) of at least this many columns — text n-grams,
        /// hashed or one-hot features of high cardinality — get the wide-sparse defaults: one network
        /// (<see cref="EnsembleSize"/> 1) with one hidden layer of 64 and no <see cref="InputScale"/>; on Debian's
        /// package descriptions (270,000 n-gram features) these beat SDCA's accuracy by 4 points in half its time.</summary>
        public const int WideSparseInputs = 10_000;

        /// <summary>Adam's second-moment decay β₂, in [0, 1). Default: 0.95 (RealMLP; steadier than 0.999 on small
        /// data).</summary>
        public float AdamBeta2 = 0.95f;

        /// <summary>Momentum of <see cref="MlpOptimizer.Sgd"/>, in [0, 1). Default: 0.9.</summary>
        public float Momentum = 0.9f;

        /// <summary>Use Nesterov momentum with <see cref="MlpOptimizer.Sgd"/>. Default: true.</summary>
        public bool NesterovMomentum = true;

        /// <summary>How the learning rate evolves. Default: <see cref="MlpLearningRateSchedule.CosineLogCycles"/>.</summary>
        public MlpLearningRateSchedule LearningRateSchedule = MlpLearningRateSchedule.CosineLogCycles;

        /// <summary>Examples per minibatch. Default (null): 256, or the whole training set when it is smaller.</summary>
        public int? BatchSize;

        /// <summary>Passes over the training data. Default (null): chosen from the data size — as many epochs as make
        /// about <see cref="AutomaticEpochSteps"/> optimizer steps, between <see cref="AutomaticMinimumEpochs"/> (large
        /// data) and <see cref="AutomaticMaximumEpochs"/> (small data: a 200-row table takes 128 steps, Fashion-MNIST 16
        /// epochs); the log line "Training an MLP ..." says how many.</summary>
        public int? NumberOfEpochs;

        /// <summary>The most epochs the automatic <see cref="NumberOfEpochs"/> picks (small data).</summary>
        public const int AutomaticMaximumEpochs = 128;

        /// <summary>The fewest epochs the automatic <see cref="NumberOfEpochs"/> picks (large data).</summary>
        public const int AutomaticMinimumEpochs = 16;

        /// <summary>The optimizer steps the automatic <see cref="NumberOfEpochs"/> aims at when the data is large
        /// enough that 256 epochs would take more.</summary>
        public const int AutomaticEpochSteps = 2000;

        /// <summary>L2 penalty on the weights (not the biases): adds <c>L2Regularization · w</c> to each weight's
        /// gradient. Default: 0.</summary>
        public float L2Regularization = 0f;

        /// <summary>Decoupled weight decay (AdamW, Loshchilov &amp; Hutter 2019; also with SGD): each step first shrinks
        /// the weights (not the biases) by <c>learning rate · WeightDecay</c>, outside the gradient. Default: 0.</summary>
        public float WeightDecay = 0f;

        /// <summary>Probability of zeroing each hidden unit while training (inverted dropout: kept units are scaled by
        /// 1 / (1 - rate)); no effect at scoring. In [0, 1). Default: 0.</summary>
        public float DropoutRate = 0f;

        /// <summary>Whether the training rows are kept in memory or streamed from the data view on every epoch. Default:
        /// <see cref="MlpDataMode.Auto"/>.</summary>
        public MlpDataMode DataMode = MlpDataMode.Auto;

        /// <summary>Streaming from a data view that cannot shuffle (<c>CanShuffle</c> false, e.g. a text file): rows held
        /// in a pool from which they leave in random order, as ML.NET's <c>RowShufflingTransformer</c> does; 0 keeps the
        /// view's order. Cached views and binary <c>.idv</c> files shuffle themselves. Default: 10,000.</summary>
        public int ShufflePoolRows = 10_000;

        /// <summary>Shuffle the training rows before every epoch. Default: true.</summary>
        public bool Shuffle = true;

        /// <summary>Seed for weight initialisation, shuffling and the validation split; null takes one from the
        /// <c>MLContext</c>.</summary>
        public int? Seed;

        /// <summary>Threads for the native computation; null uses all cores. Results are bit-identical for any
        /// thread count.</summary>
        public int? NumberOfThreads;

        /// <summary>Fraction of the training data held out (stratified for classification) to measure the model after
        /// each epoch and keep the best epoch's weights, in [0, 1); 0 trains on every row and keeps the last epoch.
        /// Ignored when <c>Fit</c> is given a validation set (which is then used the same way). Default (null): 0 —
        /// measured on the table suite, training on every row beat holding 20% out for best-epoch selection (the
        /// cosine-log schedule anneals the rate to 0, so the last epoch is a settled one); see the README.</summary>
        public float? ValidationFraction;

        /// <summary>With validation data: stop when the monitored measure (validation error for classification,
        /// validation loss for regression; ties broken by the loss) has not improved for this many epochs. Either way
        /// the best epoch's weights are restored. 0 turns both off (the last epoch's weights are kept). Default (null):
        /// no early stop, best epoch restored.</summary>
        public int? EarlyStoppingPatience;

        /// <summary>Called after every epoch with its <see cref="MlpEpochReport"/> (on the training thread).</summary>
        public Action<MlpEpochReport> EpochCallback;

        /// <summary>Synchronous data-parallel training across processes (or machines): every rank passes the same
        /// data and options, trains on its share of each minibatch (<see cref="BatchSize"/> is the global batch), and
        /// the ranks sum their gradients through this communicator, so all hold the same weights after every step and
        /// stop at the same epoch. Rank 0's initial weights are broadcast. Default (null): one process.
        /// <see cref="MlpMpiCommunicator"/> runs on MPI (<c>mpirun -np N</c>); <see cref="MlpInProcessCommunicator"/> on
        /// threads of one process. Dense and sparse inputs, in memory or streamed; streamed data need sharded reading
        /// (<see cref="DataSharding"/>).</summary>
        public IMlpCommunicator Communicator;

        /// <summary>The arithmetic of the training GEMMs (<see cref="MlpPrecision"/>). Default: float32.</summary>
        public MlpPrecision Precision = MlpPrecision.Float32;

        /// <summary>With a <see cref="Communicator"/> of several ranks: whether every rank reads all training rows or only
        /// its shard (<see cref="MlpDataSharding"/>). Default: <see cref="MlpDataSharding.Replicated"/>.</summary>
        public MlpDataSharding DataSharding = MlpDataSharding.Replicated;

        /// <summary>A file training writes a checkpoint to every <see cref="CheckpointInterval"/> epochs and when it
        /// ends: the weights, the optimizer state (Adam's moments and step count, SGD's velocity), the epoch counter,
        /// the learning-rate schedule, the best epoch so far and the history, so that
        /// <see cref="ResumeFromCheckpoint"/> continues exactly where it stopped. Written atomically (a temporary file
        /// renamed over the old one); in data-parallel training only rank 0 writes it. Default (null): no checkpoints.</summary>
        public string CheckpointPath;

        /// <summary>Epochs between checkpoints (see <see cref="CheckpointPath"/>). Default: 1.</summary>
        public int CheckpointInterval = 1;

        /// <summary>When <see cref="CheckpointPath"/> holds a checkpoint, continue training from it instead of starting
        /// anew: the same data and options (the checkpoint records the architecture, epochs, batch size, seed, optimizer,
        /// row count and number of ranks, and refuses a run that differs) give the model an uninterrupted run gives,
        /// bit for bit. Without a file training starts from the beginning, so a restarted job script needs no change.
        /// In data-parallel training rank 0 reads the file and broadcasts it. Default: false.</summary>
        public bool ResumeFromCheckpoint;

        /// <summary>Cancels training between minibatches with <see cref="OperationCanceledException"/>.</summary>
        public CancellationToken CancellationToken;
    }

    /// <summary>Options of the classification trainers.</summary>
    public abstract class MlpClassificationOptionsBase : MlpTrainerOptionsBase
    {
        /// <summary>Label smoothing ε in [0, 1): the training targets are (1 − ε)·one-hot + ε / classes, which keeps
        /// the network from chasing certainty on small data. Reported validation losses are the plain cross-entropy.
        /// Ignored by the hinge loss. Default: 0.1.</summary>
        public float LabelSmoothing = 0.1f;
    }
}
