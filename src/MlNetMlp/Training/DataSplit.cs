using System;
using System.Collections.Generic;
using System.Linq;

namespace MlNetMlp.Training
{
    /// <summary>Hold-out split of row indices for validation.</summary>
    internal static class DataSplit
    {
        /// <summary>Puts about <paramref name="fraction"/> of the rows in the validation part. With labels, each class is
        /// split separately (stratified) so that both parts keep the class proportions.</summary>
        internal static (int[] Train, int[] Validation) Split(int rows, int[] labels, float fraction, int seed)
        {
            var random = new Random(seed);
            var groups = labels == null
                ? new List<List<int>> { Enumerable.Range(0, rows).ToList() }
                : Enumerable.Range(0, rows).GroupBy(r => labels[r]).OrderBy(g => g.Key).Select(g => g.ToList()).ToList();
            var train = new List<int>(rows);
            var validation = new List<int>();
            foreach (var group in groups)
            {
                var members = group.ToArray();
                random.Shuffle(members);
                int held = (int)Math.Round(members.Length * (double)fraction);
                if (held >= members.Length)
                    held = members.Length - 1; // never take a class out of training entirely
                validation.AddRange(members.Take(held));
                train.AddRange(members.Skip(held));
            }
            train.Sort();
            validation.Sort();
            return (train.ToArray(), validation.ToArray());
        }
    }
}
