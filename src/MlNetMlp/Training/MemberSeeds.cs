namespace MlNetMlp.Training
{
    /// <summary>Seeds of the ensemble members, derived from the training seed by a fixed mix (SplitMix64), so that they
    /// are the same in every process (unlike <c>System.HashCode</c>, which is randomized per process). Member 0 uses
    /// the training seed itself, so a one-member ensemble is the plain network of that seed.</summary>
    internal static class MemberSeeds
    {
        /// <summary>What the seed is for: each stream of a member gets its own.</summary>
        internal enum Stream : ulong
        {
            Weights = 1,
            Shuffle = 2,
            Dropout = 3,
        }

        internal static ulong For(int seed, int member, Stream stream)
        {
            if (member == 0)
                return (uint)seed;
            ulong z = (uint)seed + 0x9E3779B97F4A7C15ul * (ulong)(member * 4 + (int)stream);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
            return z ^ (z >> 31);
        }
    }
}
