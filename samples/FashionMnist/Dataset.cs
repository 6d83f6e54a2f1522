using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FashionMnist
{
    /// <summary>One image: its class name and its pixels scaled to [0, 1].</summary>
    public sealed class ImageRow
    {
        /// <summary>Class name (e.g. "Sneaker").</summary>
        public string Label { get; set; }

        /// <summary>Pixels, row-major, in [0, 1].</summary>
        public float[] Features { get; set; }
    }

    /// <summary>A train/test pair of MNIST-format data sets and where it came from.</summary>
    public sealed class Dataset
    {
        /// <summary>Where the full Debian package puts Fashion-MNIST.</summary>
        public const string InstalledDirectory = "/usr/share/datasets/fashion-mnist";

        /// <summary>The embedded subset, copied next to the sample.</summary>
        public static string EmbeddedDirectory => Path.Combine(AppContext.BaseDirectory, "fashion-mnist-subset");

        /// <summary>Fashion-MNIST's class names, by label value.</summary>
        public static readonly string[] FashionClassNames =
            { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

        private Dataset(string directory, string description, string[] classNames, ImageRow[] train, ImageRow[] test)
        {
            Directory = directory;
            Description = description;
            ClassNames = classNames;
            Train = train;
            Test = test;
        }

        /// <summary>The folder the files were read from.</summary>
        public string Directory { get; }

        /// <summary>A human-readable origin ("full Fashion-MNIST from ...", "embedded subset ...").</summary>
        public string Description { get; }

        /// <summary>Class names by label value.</summary>
        public string[] ClassNames { get; }

        /// <summary>Training rows.</summary>
        public ImageRow[] Train { get; }

        /// <summary>Test rows.</summary>
        public ImageRow[] Test { get; }

        /// <summary>True when the data is the small embedded subset.</summary>
        public bool IsEmbeddedSubset => Directory == EmbeddedDirectory;

        /// <summary>Picks the data: <paramref name="dataDirectory"/> if given, else the full set installed in
        /// <paramref name="installedDirectory"/>, else the embedded subset.</summary>
        public static Dataset Load(string dataDirectory, string installedDirectory = InstalledDirectory)
        {
            if (dataDirectory != null)
            {
                if (!System.IO.Directory.Exists(dataDirectory))
                    throw new DirectoryNotFoundException($"--data: folder '{dataDirectory}' does not exist.");
                bool fashion = dataDirectory.Contains("fashion", StringComparison.OrdinalIgnoreCase);
                return LoadFrom(dataDirectory, $"MNIST-format data from {dataDirectory}", fashion ? FashionClassNames : null);
            }
            if (HasFiles(installedDirectory))
                return LoadFrom(installedDirectory, $"full Fashion-MNIST from {installedDirectory}", FashionClassNames);
            return LoadFrom(EmbeddedDirectory,
                "the embedded Fashion-MNIST subset (4,000 train / 1,000 test images; install the Debian package " +
                "dataset-fashion-mnist or pass --data DIR for the full 60,000 / 10,000)", FashionClassNames);
        }

        private static readonly string[] Stems = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };

        private static bool HasFiles(string dir) => Stems.All(s => Find(dir, s) != null);

        private static string Find(string dir, string stem)
        {
            foreach (var name in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") + ".gz", stem.Replace("-idx", ".idx") })
            {
                var path = Path.Combine(dir, name);
                if (File.Exists(path))
                    return path;
            }
            return null;
        }

        private static Dataset LoadFrom(string dir, string description, string[] classNames)
        {
            string Need(string stem) => Find(dir, stem) ?? throw new FileNotFoundException(
                $"'{dir}' has no {stem}[.gz]: expected the four MNIST-format IDX files (train/t10k images and labels).");
            var train = ReadPair(Need(Stems[0]), Need(Stems[1]), ref classNames);
            var test = ReadPair(Need(Stems[2]), Need(Stems[3]), ref classNames);
            if (train[0].Features.Length != test[0].Features.Length)
                throw new InvalidDataException("Training and test images have different sizes.");
            return new Dataset(dir, description, classNames, train, test);
        }

        private static ImageRow[] ReadPair(string imagesPath, string labelsPath, ref string[] classNames)
        {
            var (imageDims, pixels) = IdxReader.Read(imagesPath);
            var (labelDims, labels) = IdxReader.Read(labelsPath);
            if (imageDims.Length < 2 || labelDims.Length != 1 || imageDims[0] != labelDims[0])
                throw new InvalidDataException($"{imagesPath} and {labelsPath} do not describe the same number of examples.");
            int count = imageDims[0], size = pixels.Length / count;
            classNames ??= Enumerable.Range(0, labels.Max() + 1).Select(i => i.ToString()).ToArray();
            var names = classNames;
            var rows = new ImageRow[count];
            for (int i = 0; i < count; i++)
            {
                if (labels[i] >= names.Length)
                    throw new InvalidDataException($"{labelsPath}: label {labels[i]} has no class name.");
                var features = new float[size];
                for (int j = 0; j < size; j++)
                    features[j] = pixels[(long)i * size + j] / 255f;
                rows[i] = new ImageRow { Label = names[labels[i]], Features = features };
            }
            return rows;
        }

        /// <summary>An <see cref="IDataView"/> over <paramref name="rows"/> with a known-size Features vector.</summary>
        public static IDataView ToDataView(MLContext ml, IEnumerable<ImageRow> rows, int featureCount)
            => ml.Data.LoadFromEnumerable(rows, SchemaFor(featureCount));

        /// <summary>The schema of <see cref="ImageRow"/> with Features of known size (needed by the normalizer and
        /// the trainer; also pass it to <c>CreatePredictionEngine</c>).</summary>
        public static SchemaDefinition SchemaFor(int featureCount)
        {
            var schema = SchemaDefinition.Create(typeof(ImageRow));
            schema[nameof(ImageRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, featureCount);
            return schema;
        }
    }
}
