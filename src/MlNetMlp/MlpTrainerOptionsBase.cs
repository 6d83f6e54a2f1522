using System;
using System.Threading;
using Microsoft.ML.Trainers;

namespace MlNetMlp
{
    /// <summary>Options shared by the MlNetMlp trainers. Defaults are tuned on Fashion-MNIST (784 inputs, 10 classes,
    /// features scaled to [0, 1]); see the README for the measured results.</summary>
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
        /// (softmax / logistic / linear regression). Default: { 384, 192 }.</summary>
        public int[] HiddenLayerSizes = { 384, 192 };

        /// <summary>Non-linearity after each hidden layer. Default: <see cref="MlpActivation.Relu"/>.</summary>
        public MlpActivation Activation = MlpActivation.Relu;

        /// <summary>Gradient-descent method. Default: <see cref="MlpOptimizer.Adam"/>.</summary>
        public MlpOptimizer Optimizer = MlpOptimizer.Adam;

        /// <summary>Initial step size. Default: 0.002 (suits Adam with batches of 256; use about 0.05 for SGD with momentum).</summary>
        public float LearningRate = 0.002f;

        /// <summary>Momentum of <see cref="MlpOptimizer.Sgd"/>, in [0, 1). Default: 0.9.</summary>
        public float Momentum = 0.9f;

        /// <summary>Use Nesterov momentum with <see cref="MlpOptimizer.Sgd"/>. Default: true.</summary>
        public bool NesterovMomentum = true;

        /// <summary>How the learning rate evolves. Default: <see cref="MlpLearningRateSchedule.Cosine"/>.</summary>
        public MlpLearningRateSchedule LearningRateSchedule = MlpLearningRateSchedule.Cosine;

        /// <summary>Examples per minibatch. Default: 256.</summary>
        public int BatchSize = 256;

        /// <summary>Passes over the training data. Default: 20.</summary>
        public int NumberOfEpochs = 20;

        /// <summary>L2 penalty on the weights (not the biases): adds <c>L2Regularization · w</c> to each weight's
        /// gradient. Default: 0.</summary>
        public float L2Regularization = 0f;

        /// <summary>Decoupled weight decay (AdamW, Loshchilov &amp; Hutter 2019; also with SGD): each step first shrinks
        /// the weights (not the biases) by <c>learning rate · WeightDecay</c>, outside the gradient, so that it acts
        /// the same whatever Adam's per-parameter scaling. Default: 0.05.</summary>
        public float WeightDecay = 0.05f;

        /// <summary>Probability of zeroing each hidden unit while training (inverted dropout: kept units are scaled by
        /// 1 / (1 - rate)); no effect at scoring. In [0, 1). Default: 0.</summary>
        public float DropoutRate = 0f;

        /// <summary>Shuffle the training rows before every epoch. Default: true.</summary>
        public bool Shuffle = true;

        /// <summary>Seed for weight initialisation and shuffling; null takes one from the <c>MLContext</c>.</summary>
        public int? Seed;

        /// <summary>Threads for the native computation; null uses all cores. Results are bit-identical for any
        /// thread count.</summary>
        public int? NumberOfThreads;

        /// <summary>Fraction of the training data held out (stratified for classification) to measure validation
        /// loss each epoch, in [0, 1). Ignored when <c>Fit</c> is given a validation set. Default: 0.</summary>
        public float ValidationFraction = 0f;

        /// <summary>Stop when the validation loss has not improved for this many epochs and restore the best
        /// weights; 0 turns early stopping off. Needs validation data. Default: 0.</summary>
        public int EarlyStoppingPatience = 0;

        /// <summary>Called after every epoch with its <see cref="MlpEpochReport"/> (on the training thread).</summary>
        public Action<MlpEpochReport> EpochCallback;

        /// <summary>Cancels training between minibatches with <see cref="OperationCanceledException"/>.</summary>
        public CancellationToken CancellationToken;
    }
}
