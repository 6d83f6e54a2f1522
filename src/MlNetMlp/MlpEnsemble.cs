using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace MlNetMlp
{
    /// <summary>One or more networks of the same architecture whose outputs are averaged: class probabilities for
    /// softmax models, raw outputs (logits, margins, values) otherwise. One member is a plain MLP.</summary>
    internal sealed class MlpEnsemble
    {
        internal const int MaxMembers = 64;

        internal MlpEnsemble(IReadOnlyList<MlpNetwork> members)
        {
            if (members.Count < 1 || members.Count > MaxMembers)
                throw new ArgumentOutOfRangeException(nameof(members), members.Count, $"An ensemble has 1 to {MaxMembers} members.");
            foreach (var m in members.Skip(1))
                if (!m.Sizes.SequenceEqual(members[0].Sizes) || m.Activation != members[0].Activation || m.Loss != members[0].Loss)
                    throw new ArgumentException("The members of an ensemble must share their architecture and loss.");
            Members = members.ToArray();
        }

        internal MlpNetwork[] Members { get; }
        internal MlpNetwork First => Members[0];
        internal int Count => Members.Length;

        /// <summary>Writes members 2.. (the first is written by the model as its network): int count, then each
        /// member in <see cref="MlpNetwork.Save"/>'s format.</summary>
        internal void SaveOthers(BinaryWriter writer)
        {
            writer.Write(Members.Length);
            foreach (var m in Members.Skip(1))
                m.Save(writer);
        }

        /// <summary>Reads what <see cref="SaveOthers"/> wrote after <paramref name="first"/>.</summary>
        internal static MlpEnsemble LoadOthers(BinaryReader reader, MlpNetwork first)
        {
            int count = reader.ReadInt32();
            if (count < 1 || count > MaxMembers)
                throw MlpNetwork.Corrupt($"an ensemble of {count} members");
            var members = new List<MlpNetwork> { first };
            for (int i = 1; i < count; i++)
            {
                var m = MlpNetwork.Load(reader);
                if (!m.Sizes.SequenceEqual(first.Sizes) || m.Activation != first.Activation || m.Loss != first.Loss)
                    throw MlpNetwork.Corrupt($"ensemble member {i} differs from the first in architecture or loss");
                members.Add(m);
            }
            return new MlpEnsemble(members);
        }
    }
}
