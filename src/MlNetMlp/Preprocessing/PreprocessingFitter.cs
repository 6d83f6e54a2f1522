using System;
using System.Linq;
using System.Threading.Tasks;

namespace MlNetMlp.Preprocessing
{
    /// <summary>Fits <see cref="MlpPreprocessing"/> on training rows, one pass per column over at most
    /// <see cref="MaxStatisticsRows"/> of them: the median of the finite values is the imputation value; when
    /// normalizing, the column is centred on it and scaled by 1 / IQR (or 2 / range when the quartiles coincide, 0
    /// when the column is constant), then smoothly clipped (RealMLP's robust scaling, Holzmüller et al. 2024).</summary>
    internal static class PreprocessingFitter
    {
        /// <summary>Rows the statistics are computed on (a fixed sample beyond that: quantiles of a 16,384-row sample are
        /// within about 1% of a standard deviation of the full data's).</summary>
        internal const int MaxStatisticsRows = 16384;

        /// <summary>The preprocessing for <paramref name="rows"/> of <paramref name="features"/> (row-major,
        /// <paramref name="columns"/> wide, NaN/∞ = missing). <paramref name="indicatorColumns"/>: the columns that get
        /// a missing indicator.</summary>
        internal static unsafe MlpPreprocessing Fit(float* features, int columns, int[] rows, bool normalize, int[] indicatorColumns,
            int seed, int threads)
        {
            var sample = rows;
            if (rows.Length > MaxStatisticsRows)
            {
                sample = (int[])rows.Clone();
                new Random(seed).Shuffle(sample);
                sample = sample.Take(MaxStatisticsRows).OrderBy(r => r).ToArray();
            }
            var fill = new float[columns];
            var center = new float[columns];
            var scale = new float[columns];
            var featureAddress = (IntPtr)features;
            Parallel.For(0, columns, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, () => new float[sample.Length], (j, _, values) =>
            {
                var stats = ColumnStatistics((float*)featureAddress, columns, j, sample, values);
                fill[j] = (float)stats.Median;
                if (normalize)
                {
                    center[j] = (float)stats.Median;
                    scale[j] = (float)RobustScale(stats);
                }
                else
                    scale[j] = 1;
                return values;
            }, _ => { });
            return new MlpPreprocessing(fill, center, scale, normalize, indicatorColumns);
        }

        /// <summary>Order statistics of one column's finite values (NaN when there are none).</summary>
        internal readonly record struct Statistics(double Min, double Q25, double Median, double Q75, double Max, int Count);

        internal static unsafe Statistics ColumnStatistics(float* features, int columns, int column, int[] rows, float[] scratch)
        {
            int n = 0;
            foreach (int r in rows)
            {
                float v = features[(long)r * columns + column];
                if (float.IsFinite(v))
                    scratch[n++] = v;
            }
            if (n == 0)
                return new Statistics(0, 0, 0, 0, 0, 0);
            var values = scratch.AsSpan(0, n);
            values.Sort();
            return new Statistics(values[0], Quantile(values, 0.25), Quantile(values, 0.5), Quantile(values, 0.75), values[n - 1], n);
        }

        /// <summary>The <paramref name="q"/>-quantile of sorted values, interpolated linearly between order statistics
        /// (numpy's default).</summary>
        internal static double Quantile(ReadOnlySpan<float> sorted, double q)
        {
            double position = q * (sorted.Length - 1);
            int lo = (int)Math.Floor(position);
            int hi = Math.Min(lo + 1, sorted.Length - 1);
            double t = position - lo;
            return sorted[lo] + t * ((double)sorted[hi] - sorted[lo]);
        }

        /// <summary>1 / IQR; 2 / (max - min) when the quartiles coincide; 0 for a constant column. Clamped to the float
        /// range (a column spread over 1e-40 still scales to a finite factor).</summary>
        internal static double RobustScale(Statistics s)
        {
            double iqr = s.Q75 - s.Q25, range = s.Max - s.Min;
            double factor = iqr > 0 ? 1 / iqr : range > 0 ? 2 / range : 0;
            return Math.Min(factor, float.MaxValue);
        }
    }
}
