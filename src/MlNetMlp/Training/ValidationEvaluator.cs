using System;
using System.Threading.Tasks;
using MlNetMlp.Interop;

namespace MlNetMlp.Training
{
    /// <summary>Validation loss and metric after an epoch: natively through the trainer for one network, from the
    /// averaged outputs (as the model scores) for an ensemble. Loss: the plain cross-entropy / hinge / half squared
    /// error (or Huber) per row, weighted; metric: accuracy, or R² for regression.</summary>
    internal sealed unsafe class ValidationEvaluator
    {
        private readonly RowSelection _rows;
        private readonly bool _isRegression;
        private readonly double _targetVariance;
        private readonly DataParallel _ranks;

        private ValidationEvaluator(RowSelection rows, bool isRegression, DataParallel ranks, DataShards shards)
        {
            _isRegression = isRegression;
            double v = !isRegression ? double.NaN
                : shards != null ? shards.Moments(rows.Set, rows.Rows).Variance
                : TargetScaling.Moments(rows.Set, rows.Rows).Variance;
            _targetVariance = v > 0 ? v : double.NaN;
            // data-parallel: each rank evaluates every Size-th row (sharded: its own rows) and the sums are reduced (the
            // variance is the whole set's)
            _rows = ranks == null || shards != null ? rows : new RowSelection(rows.Set, ranks.Stride(rows.Rows));
            _ranks = ranks;
        }

        /// <summary>An evaluator of <paramref name="rows"/>, or null when there are none. With
        /// <paramref name="ranks"/>, every rank evaluates its share and gets the same totals; with
        /// <paramref name="shards"/>, the rows are this rank's own (perhaps none while other ranks have some).</summary>
        internal static ValidationEvaluator Create(RowSelection rows, bool isRegression, MlpNetwork prototype, DataParallel ranks = null,
            DataShards shards = null)
        {
            if (shards == null)
                return rows.IsEmpty ? null : new ValidationEvaluator(rows, isRegression, ranks, null);
            if (!shards.Any(!rows.IsEmpty))
                return null;
            return new ValidationEvaluator(rows.IsEmpty ? new RowSelection(rows.Set, Array.Empty<int>()) : rows, isRegression, ranks, shards);
        }

        private (double Loss, double Metric) Finish(double loss, double metric, double weight)
        {
            if (_ranks != null)
                (loss, metric, weight) = _ranks.Sum((loss, metric, weight));
            return (loss / weight, _isRegression ? 1 - metric / weight / _targetVariance : metric / weight);
        }

        /// <summary>One network, through its trainer.</summary>
        internal (double Loss, double Metric) Single(TrainerHandle trainer)
        {
            var (loss, metric, weight) = _rows.Rows.Length == 0 ? (0, 0, 0) : _rows.Set.Evaluate(trainer, _rows.Rows);
            return Finish(loss, metric, weight);
        }

        /// <summary>An ensemble: its members' outputs averaged as the model averages them.</summary>
        internal (double Loss, double Metric) Ensemble(MlpNetwork[] members, int threads)
        {
            var set = _rows.Set;
            int n = _rows.Rows.Length;
            if (n == 0)
                return Finish(0, 0, 0);
            var first = members[0];
            int outputs = first.OutputCount;
            bool softmax = first.Loss == NativeMethods.LossSoftmaxCrossEntropy;
            var perMember = new float[members.Length][];
            SideBySide.For(members.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, m =>
            {
                perMember[m] = new float[(long)n * outputs];
                set.Predict(members[m], _rows.Rows, softmax ? NativeMethods.OutputProbability : NativeMethods.OutputRaw, perMember[m], threads: 1);
            });
            var mean = new double[outputs];
            double loss = 0, metric = 0, weight = 0;
            for (int i = 0; i < n; i++)
            {
                int row = _rows.Rows[i];
                for (int j = 0; j < outputs; j++)
                {
                    double sum = 0;
                    foreach (var p in perMember) sum += p[(long)i * outputs + j];
                    mean[j] = sum / members.Length;
                }
                double w = set.Weights?[row] ?? 1;
                var (rowLoss, rowMetric) = RowLoss(first.Loss, mean, set, row);
                loss += w * rowLoss;
                metric += w * rowMetric;
                weight += w;
            }
            return Finish(loss, metric, weight);
        }

        /// <summary>A row's loss and metric (1/0 correct, or the squared error) from the averaged output.</summary>
        private static (double Loss, double Metric) RowLoss(int loss, double[] z, TrainingSet set, int row)
        {
            switch (loss)
            {
                case NativeMethods.LossSoftmaxCrossEntropy:
                    {
                        int label = set.Labels[row], argmax = 0;
                        for (int j = 1; j < z.Length; j++)
                            if (z[j] > z[argmax]) argmax = j;
                        return (-Math.Log(Math.Max(z[label], 1e-30)), argmax == label ? 1 : 0);
                    }
                case NativeMethods.LossSigmoidLogLoss:
                    {
                        double y = set.Targets[row], v = z[0];
                        return (Math.Max(v, 0) - y * v + Math.Log(1 + Math.Exp(-Math.Abs(v))), (v > 0) == (y > 0.5) ? 1 : 0);
                    }
                case NativeMethods.LossHinge:
                    {
                        double y = set.Targets[row], t = y > 0.5 ? 1 : -1;
                        return (Math.Max(0, 1 - t * z[0]), (z[0] > 0) == (y > 0.5) ? 1 : 0);
                    }
                default:
                    {
                        double value = 0, squared = 0;
                        for (int j = 0; j < z.Length; j++)
                        {
                            double d = z[j] - set.Targets[(long)row * z.Length + j];
                            squared += d * d;
                            value += loss == NativeMethods.LossHuber && Math.Abs(d) > 1 ? Math.Abs(d) - 0.5 : 0.5 * d * d;
                        }
                        return (value, squared);
                    }
            }
        }
    }
}
