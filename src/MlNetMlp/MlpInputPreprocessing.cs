using System;
using System.Collections.Generic;

namespace MlNetMlp
{
    /// <summary>The input transform a trained model applies before its first layer (copies of its statistics): for
    /// feature <c>j</c>, a missing value (NaN or infinite) becomes <c>FillValues[j]</c>; then
    /// <c>z = (v - Centers[j]) · Scales[j]</c>, and with <see cref="SmoothClip"/> <c>z / sqrt(1 + (z/3)²)</c> (after
    /// clamping z to ±1e18); then one 0/1 input per entry of <see cref="MissingIndicatorColumns"/> follows the features.</summary>
    public sealed class MlpInputPreprocessing
    {
        internal MlpInputPreprocessing(float[] fill, float[] centers, float[] scales, bool smoothClip, int[] indicators)
        {
            FillValues = fill;
            Centers = centers;
            Scales = scales;
            SmoothClip = smoothClip;
            MissingIndicatorColumns = indicators;
        }

        /// <summary>The value each feature's missing values take: its median over the training rows.</summary>
        public IReadOnlyList<float> FillValues { get; }

        /// <summary>Subtracted from each feature: its training median, or 0 without normalization.</summary>
        public IReadOnlyList<float> Centers { get; }

        /// <summary>Each feature's factor: 1 / interquartile range (2 / range when the quartiles coincide, 0 when the
        /// feature was constant), or 1 without normalization.</summary>
        public IReadOnlyList<float> Scales { get; }

        /// <summary>Whether the scaled values are squashed onto (-3, 3).</summary>
        public bool SmoothClip { get; }

        /// <summary>The features (ascending) that had missing values in training; each adds a 0/1 input.</summary>
        public IReadOnlyList<int> MissingIndicatorColumns { get; }

        /// <summary>The network's inputs for one row of features (what the model feeds its first layer).</summary>
        public float[] Apply(ReadOnlySpan<float> features)
        {
            if (features.Length != FillValues.Count)
                throw new ArgumentException($"Expected {FillValues.Count} features, got {features.Length}.", nameof(features));
            var result = new float[FillValues.Count + MissingIndicatorColumns.Count];
            for (int j = 0; j < FillValues.Count; j++)
            {
                float v = float.IsFinite(features[j]) ? features[j] : FillValues[j];
                float z = (v - Centers[j]) * Scales[j];
                if (SmoothClip)
                {
                    z = Math.Clamp(z, -1e18f, 1e18f);
                    float t = z * (1f / 3f);
                    z = z / MathF.Sqrt(1f + t * t);
                }
                result[j] = z;
            }
            for (int i = 0; i < MissingIndicatorColumns.Count; i++)
                result[FillValues.Count + i] = float.IsFinite(features[MissingIndicatorColumns[i]]) ? 0f : 1f;
            return result;
        }
    }
}
