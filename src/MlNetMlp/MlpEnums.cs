namespace MlNetMlp
{
    /// <summary>The non-linearity applied after every hidden layer. The output layer has none: its raw output goes
    /// to the loss (softmax for multiclass).</summary>
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
    }

    /// <summary>The optimizer that applies the minibatch gradients.</summary>
    public enum MlpOptimizer
    {
        /// <summary>Stochastic gradient descent, optionally with (Nesterov) momentum.</summary>
        Sgd = 0,
        /// <summary>Adam (Kingma &amp; Ba, 2015) with bias correction.</summary>
        Adam = 1,
    }
}
