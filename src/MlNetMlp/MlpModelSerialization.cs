using System;
using System.IO;
using System.IO.Hashing;

namespace MlNetMlp
{
    /// <summary>Serialization of the parts of a model that are not the network itself.</summary>
    internal static class MlpModelSerialization
    {
        private const int MaxHistory = 1_000_000;
        private const int BytesPerEntry = 4 + 4 + 8 * 3 + 4 + 8;

        /// <summary>int count, then per epoch: int epoch, int numberOfEpochs, double trainingLoss, double validationLoss,
        /// double validationMetric, float learningRate, long elapsedTicks; then the CRC-32 of those bytes.</summary>
        internal static void WriteHistory(BinaryWriter writer, MlpEpochReport[] history)
        {
            using var buffer = new MemoryStream();
            using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                w.Write(history.Length);
                foreach (var r in history)
                {
                    w.Write(r.Epoch);
                    w.Write(r.NumberOfEpochs);
                    w.Write(r.TrainingLoss);
                    w.Write(r.ValidationLoss);
                    w.Write(r.ValidationMetric);
                    w.Write(r.LearningRate);
                    w.Write(r.Elapsed.Ticks);
                }
            }
            var bytes = buffer.ToArray();
            writer.Write(bytes);
            writer.Write(Crc32.HashToUInt32(bytes));
        }

        internal static MlpEpochReport[] ReadHistory(BinaryReader reader)
        {
            int count = reader.ReadInt32();
            var stream = reader.BaseStream;
            if (count < 0 || count > MaxHistory || (stream.CanSeek && stream.Length - stream.Position < (long)count * BytesPerEntry + 4))
                throw MlpNetwork.Corrupt($"the training history claims {count} epochs");
            var bytes = new byte[4 + (long)count * BytesPerEntry];
            BitConverter.TryWriteBytes(bytes, count);
            stream.ReadExactly(bytes, 4, bytes.Length - 4);
            if (reader.ReadUInt32() != Crc32.HashToUInt32(bytes))
                throw MlpNetwork.Corrupt("the training history's checksum does not match");

            using var r = new BinaryReader(new MemoryStream(bytes, 4, bytes.Length - 4));
            var history = new MlpEpochReport[count];
            for (int i = 0; i < count; i++)
            {
                int epoch = r.ReadInt32(), total = r.ReadInt32();
                double train = r.ReadDouble(), validLoss = r.ReadDouble(), validMetric = r.ReadDouble();
                float lr = r.ReadSingle();
                long ticks = r.ReadInt64();
                if (ticks < 0)
                    throw MlpNetwork.Corrupt("the training history has a negative time");
                history[i] = new MlpEpochReport(epoch, total, train, validLoss, validMetric, lr, TimeSpan.FromTicks(ticks));
            }
            return history;
        }
    }
}
