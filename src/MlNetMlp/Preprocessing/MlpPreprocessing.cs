using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using MlNetMlp.Interop;

namespace MlNetMlp.Preprocessing
{
    /// <summary>The fitted input transform stored in a model: per raw column, the value a missing (non-finite) input
    /// takes, then <c>z = (v - Center) · Scale</c> and optionally the smooth clip <c>z / sqrt(1 + (z/3)²)</c>; after the
    /// raw columns, a 0/1 missing indicator for each of <see cref="IndicatorColumns"/>. The native library applies it
    /// (training and scoring alike); the ONNX export writes the same operations.</summary>
    internal sealed unsafe class MlpPreprocessing
    {
        private readonly Lazy<PreprocessorHandle> _handle;

        internal MlpPreprocessing(float[] fill, float[] center, float[] scale, bool smoothClip, int[] indicatorColumns)
        {
            Fill = fill;
            Center = center;
            Scale = scale;
            SmoothClip = smoothClip;
            IndicatorColumns = indicatorColumns;
            _handle = new Lazy<PreprocessorHandle>(CreateHandle);
        }

        internal int Inputs => Fill.Length;
        internal int Outputs => Fill.Length + IndicatorColumns.Length;
        internal float[] Fill { get; }
        internal float[] Center { get; }
        internal float[] Scale { get; }
        internal bool SmoothClip { get; }
        /// <summary>Raw columns (ascending) that had missing values in training and get an indicator input.</summary>
        internal int[] IndicatorColumns { get; }

        /// <summary>Whether the columns are scaled (false: imputation and indicators only).</summary>
        internal bool Normalizes
        {
            get
            {
                foreach (var c in Center) if (c != 0) return true;
                foreach (var s in Scale) if (s != 1) return true;
                return SmoothClip;
            }
        }

        private PreprocessorHandle CreateHandle()
        {
            Native.EnsureLoaded();
            fixed (float* fill = Fill)
            fixed (float* center = Center)
            fixed (float* scale = Scale)
            fixed (int* columns = IndicatorColumns)
            {
                var spec = new NativeMethods.PreprocessSpec
                {
                    StructSize = sizeof(NativeMethods.PreprocessSpec),
                    Inputs = Inputs,
                    Fill = fill,
                    Center = center,
                    Scale = scale,
                    SmoothClip = SmoothClip ? 1 : 0,
                    IndicatorCount = IndicatorColumns.Length,
                    IndicatorColumns = columns,
                };
                int status = NativeMethods.mlp_preprocessor_create(spec, out var handle);
                if (status != NativeMethods.StatusOk)
                {
                    handle.Dispose();
                    Native.Check(status);
                }
                return handle;
            }
        }

        /// <summary>Transforms <paramref name="rows"/> rows of <paramref name="x"/> into <paramref name="output"/>
        /// (which may be <paramref name="x"/> itself when <paramref name="ldo"/> ≥ <paramref name="ldx"/>); returns the
        /// number of missing values imputed.</summary>
        internal long Apply(float* x, long ldx, long rows, float* output, long ldo)
        {
            long missing = 0;
            Native.Check(NativeMethods.mlp_preprocess(_handle.Value, x, ldx, rows, output, ldo, &missing));
            return missing;
        }

        /// <summary>Whether zero stays zero and no column is added (sparse rows can be transformed without densifying).</summary>
        internal bool KeepsZeros
        {
            get
            {
                if (IndicatorColumns.Length > 0) return false;
                for (int j = 0; j < Inputs; j++)
                    if (Center[j] != 0 || Fill[j] != 0) return false;
                return true;
            }
        }

        /// <summary>Sparse nonzeros in place (<see cref="KeepsZeros"/> only); returns the number of missing values.</summary>
        internal long ApplySparse(ReadOnlySpan<int> columns, Span<float> values)
        {
            long missing = 0;
            fixed (int* c = columns)
            fixed (float* v = values)
                Native.Check(NativeMethods.mlp_preprocess_csr(_handle.Value, c, v, values.Length, &missing));
            return missing;
        }

        /// <summary>One row into <paramref name="output"/> (at least <see cref="Outputs"/> floats).</summary>
        internal long Apply(ReadOnlySpan<float> row, Span<float> output)
        {
            if (row.Length < Inputs || output.Length < Outputs)
                throw new ArgumentException("Row or output buffer too small for the preprocessing.");
            fixed (float* x = row)
            fixed (float* o = output)
                return Apply(x, Inputs, 1, o, Outputs);
        }

        // ---- serialization --------------------------------------------------------------------------------

        /// <summary>int inputs, int smoothClip (0/1), float[inputs] fill, center, scale, int indicatorCount,
        /// int[indicatorCount] columns (little-endian), then the CRC-32 of all those bytes.</summary>
        internal void Save(BinaryWriter writer)
        {
            using var buffer = new MemoryStream();
            using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                w.Write(Inputs);
                w.Write(SmoothClip ? 1 : 0);
                w.Write(MemoryMarshal.AsBytes(Fill.AsSpan()));
                w.Write(MemoryMarshal.AsBytes(Center.AsSpan()));
                w.Write(MemoryMarshal.AsBytes(Scale.AsSpan()));
                w.Write(IndicatorColumns.Length);
                w.Write(MemoryMarshal.AsBytes(IndicatorColumns.AsSpan()));
            }
            var bytes = buffer.ToArray();
            writer.Write(bytes);
            writer.Write(Crc32.HashToUInt32(bytes));
        }

        /// <summary>Reads what <see cref="Save"/> wrote for a network of <paramref name="networkInputs"/> inputs,
        /// validating every size and value; throws <see cref="FormatException"/> on any inconsistency.</summary>
        internal static MlpPreprocessing Load(BinaryReader reader, int networkInputs)
        {
            if (!BitConverter.IsLittleEndian)
                throw new PlatformNotSupportedException("MlNetMlp model files are little-endian.");
            var crc = new Crc32();
            var stream = reader.BaseStream;
            byte[] Take(long count)
            {
                if (count < 0 || (stream.CanSeek && stream.Length - stream.Position < count))
                    throw MlpNetwork.Corrupt("the preprocessing block is truncated");
                var bytes = new byte[count];
                try { stream.ReadExactly(bytes); }
                catch (EndOfStreamException) { throw MlpNetwork.Corrupt("the preprocessing block is truncated"); }
                crc.Append(bytes);
                return bytes;
            }
            int inputs = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
            if (inputs < 1 || inputs > networkInputs)
                throw MlpNetwork.Corrupt($"the preprocessing reads {inputs} columns for a network of {networkInputs} inputs");
            int clip = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
            if (clip != 0 && clip != 1)
                throw MlpNetwork.Corrupt($"unknown smooth-clip flag {clip}");
            float[] Floats() => MemoryMarshal.Cast<byte, float>(Take((long)inputs * 4)).ToArray();
            var fill = Floats();
            var center = Floats();
            var scale = Floats();
            int count = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
            if (count != networkInputs - inputs)
                throw MlpNetwork.Corrupt($"{count} missing indicators where the network expects {networkInputs - inputs}");
            var columns = MemoryMarshal.Cast<byte, int>(Take((long)count * 4)).ToArray();
            uint stored = reader.ReadUInt32();
            if (stored != crc.GetCurrentHashAsUInt32())
                throw MlpNetwork.Corrupt("the preprocessing block's checksum does not match");
            for (int j = 0; j < inputs; j++)
                if (!float.IsFinite(fill[j]) || !float.IsFinite(center[j]) || !float.IsFinite(scale[j]))
                    throw MlpNetwork.Corrupt($"the preprocessing of column {j} is not finite");
            for (int i = 0; i < columns.Length; i++)
                if (columns[i] < 0 || columns[i] >= inputs || (i > 0 && columns[i] <= columns[i - 1]))
                    throw MlpNetwork.Corrupt("the missing-indicator columns are out of order or range");
            return new MlpPreprocessing(fill, center, scale, clip == 1, columns);
        }
    }
}
