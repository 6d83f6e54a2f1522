using System;
using System.IO;

namespace MlNetMlp
{
    /// <summary>Serialization of the parts of a model that are not the network itself.</summary>
    internal static class MlpModelSerialization
    {
        private const int MaxHistory = 1_000_000;

        /// <summary>int count, then per epoch: int epoch, int numberOfEpochs, double trainingLoss, double validationLoss,
        /// double validationMetric, float learningRate, long elapsedTicks.</summary>
        internal static void WriteHistory(BinaryWriter writer, MlpEpochReport[] history)
        {
            writer.Write(history.Length);
            foreach (var r in history)
            {
                writer.Write(r.Epoch);
                writer.Write(r.NumberOfEpochs);
                writer.Write(r.TrainingLoss);
                writer.Write(r.ValidationLoss);
                writer.Write(r.ValidationMetric);
                writer.Write(r.LearningRate);
                writer.Write(r.Elapsed.Ticks);
            }
        }

        internal static MlpEpochReport[] ReadHistory(BinaryReader reader)
        {
            int count = reader.ReadInt32();
            const int bytesPerEntry = 4 + 4 + 8 * 3 + 4 + 8;
            var stream = reader.BaseStream;
            if (count < 0 || count > MaxHistory || (stream.CanSeek && stream.Length - stream.Position < (long)count * bytesPerEntry))
                throw new FormatException($"The MlNetMlp model's training history is corrupted (count {count}).");
            var history = new MlpEpochReport[count];
            for (int i = 0; i < count; i++)
            {
                int epoch = reader.ReadInt32(), total = reader.ReadInt32();
                double train = reader.ReadDouble(), validLoss = reader.ReadDouble(), validMetric = reader.ReadDouble();
                float lr = reader.ReadSingle();
                long ticks = reader.ReadInt64();
                if (ticks < 0)
                    throw new FormatException("The MlNetMlp model's training history is corrupted (negative time).");
                history[i] = new MlpEpochReport(epoch, total, train, validLoss, validMetric, lr, TimeSpan.FromTicks(ticks));
            }
            return history;
        }
    }
}
