using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace FashionMnist
{
    /// <summary>Reads MNIST-format IDX files (unsigned-byte data, gzip-compressed or not).</summary>
    public static class IdxReader
    {
        /// <summary>Returns the dimensions and the raw bytes of an IDX file of unsigned bytes.</summary>
        public static (int[] Dimensions, byte[] Data) Read(string path)
        {
            using var file = File.OpenRead(path);
            using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
                ? new GZipStream(file, CompressionMode.Decompress) : file;
            Span<byte> header = stackalloc byte[4];
            stream.ReadExactly(header);
            if (header[0] != 0 || header[1] != 0 || header[2] != 0x08)
                throw new InvalidDataException($"{path} is not an IDX file of unsigned bytes (magic {Convert.ToHexString(header)}).");
            int rank = header[3];
            if (rank < 1 || rank > 4)
                throw new InvalidDataException($"{path}: IDX rank {rank} is not supported.");
            var dims = new int[rank];
            long count = 1;
            for (int i = 0; i < rank; i++)
            {
                stream.ReadExactly(header);
                dims[i] = BinaryPrimitives.ReadInt32BigEndian(header);
                if (dims[i] <= 0)
                    throw new InvalidDataException($"{path}: dimension {i} is {dims[i]}.");
                count *= dims[i];
            }
            if (count > int.MaxValue)
                throw new InvalidDataException($"{path}: {count} values is too many.");
            var data = new byte[count];
            stream.ReadExactly(data);
            return (dims, data);
        }
    }
}
