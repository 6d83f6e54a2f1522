using System;
using MlNetMlp.Interop;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>Backpropagation of the whole network (every layer, the activation, softmax cross-entropy, example
    /// weights and the L2 term) against central finite differences of the loss.</summary>
    public sealed unsafe class GradientCheckTests
    {
        [TestCase(MlpActivation.Tanh)]
        [TestCase(MlpActivation.Sigmoid)]
        [TestCase(MlpActivation.Relu)]
        [TestCase(MlpActivation.LeakyRelu)]
        [TestCase(MlpActivation.Identity)]
        public void AnalyticGradientMatchesFiniteDifferences(MlpActivation activation)
        {
            const int rows = 11, inputs = 6, classes = 4;
            var sizes = new[] { inputs, 8, 5, classes };
            var network = new MlpNetwork(sizes, activation, NativeMethods.LossSoftmaxCrossEntropy);
            network.Initialize(7);
            var random = new Random(3);
            var x = new float[rows * inputs];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
            var labels = new int[rows];
            var weights = new float[rows];
            for (int i = 0; i < rows; i++)
            {
                labels[i] = i % classes;
                weights[i] = 0.5f + i % 3;
            }
            var config = new NativeMethods.TrainConfig
            {
                StructSize = sizeof(NativeMethods.TrainConfig), Optimizer = (int)MlpOptimizer.Sgd, LearningRate = 0.1f,
                Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f, L2 = 0.01f, MaxBatchRows = rows, NumThreads = 1,
            };
            Native.Check(NativeMethods.mlp_trainer_create(network.Handle, config, out var trainer));
            using (trainer)
            {
                trainer.KeepAlive(network.Handle);
                double Loss()
                {
                    fixed (float* px = x, pw = weights)
                    fixed (int* pl = labels)
                    {
                        Native.Check(NativeMethods.mlp_trainer_step(trainer, px, inputs, rows, null, rows, pl, null, pw, 0, out double loss));
                        return loss;
                    }
                }

                // Analytic gradients first: every Loss() below overwrites the trainer's gradient buffers.
                double baseLoss = Loss();
                var gradients = new (float[] W, float[] B)[network.LayerCount];
                for (int layer = 0; layer < network.LayerCount; layer++)
                {
                    gradients[layer] = (new float[network.WeightCount(layer)], new float[sizes[layer + 1]]);
                    fixed (float* pgw = gradients[layer].W, pgb = gradients[layer].B)
                        Native.Check(NativeMethods.mlp_trainer_get_gradient(trainer, layer, pgw, gradients[layer].W.Length, pgb, gradients[layer].B.Length));
                }
                int checkedCount = 0, skipped = 0;
                for (int layer = 0; layer < network.LayerCount; layer++)
                {
                    var w = network.GetWeights(layer);
                    var b = network.GetBiases(layer);
                    var (gw, gb) = gradients[layer];
                    for (int i = 0; i < w.Length + b.Length; i++)
                    {
                        bool isWeight = i < w.Length;
                        float[] target = isWeight ? w : b;
                        int index = isWeight ? i : i - w.Length;
                        float saved = target[index];
                        const float eps = 1e-3f; // small enough to rarely straddle a ReLU kink, large enough for float loss noise
                        target[index] = saved + eps;
                        network.SetLayer(layer, w, b);
                        double up = Loss();
                        target[index] = saved - eps;
                        network.SetLayer(layer, w, b);
                        double down = Loss();
                        target[index] = saved;
                        network.SetLayer(layer, w, b);
                        // A ReLU kink inside [w - eps, w + eps] makes the central difference meaningless: the two
                        // one-sided slopes disagree. Such parameters are skipped (and counted).
                        double forward = (up - baseLoss) / eps, backward = (baseLoss - down) / eps;
                        if (Math.Abs(forward - backward) > 1e-2 + 0.1 * Math.Abs(forward + backward))
                        {
                            skipped++;
                            continue;
                        }
                        // The reported loss leaves out the L2 penalty 0.5·l2·w²: add its derivative for weights.
                        double numeric = (up - down) / (2 * eps) + (isWeight ? config.L2 * saved : 0);
                        double analytic = isWeight ? gw[index] : gb[index];
                        Assert.That(analytic, Is.EqualTo(numeric).Within(2e-3 + 2e-2 * Math.Abs(numeric)),
                            $"layer {layer} {(isWeight ? "weight" : "bias")} {index}");
                        checkedCount++;
                    }
                }
                Assert.That(checkedCount + skipped, Is.EqualTo(network.ParameterCount));
                Assert.That(skipped, Is.LessThan(network.ParameterCount / 10), "too many parameters sit on a kink to judge");
                if (activation is not (MlpActivation.Relu or MlpActivation.LeakyRelu))
                    Assert.That(skipped, Is.Zero, "smooth activations have no kinks");
            }
        }
    }
}
