using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace FashionMnist
{
    /// <summary>Command-line options of the sample.</summary>
    public sealed class SampleOptions
    {
        /// <summary>Usage text.</summary>
        public static string Usage =>
            "usage: FashionMnist [--trainers LIST] [--data DIR] [--epochs N] [--hidden W1,W2,...] [--threads N] [--out DIR] [--seed N]\n" +
            "  --trainers LIST  comma-separated, from: " + string.Join(", ", TrainerChoices.Names) + " (default: all but mlp-bf16)\n" +
            "  --data DIR       folder of MNIST-format IDX files (default: /usr/share/datasets/fashion-mnist, else the embedded subset)\n" +
            "  --epochs N       epochs of the MlNetMlp trainers (default: the trainer's default)\n" +
            "  --hidden LIST    hidden layer widths of the default MLP, e.g. 256,128 (default: the trainer's default)\n" +
            "  --threads N      threads for every trainer that takes a thread count (default: all cores)\n" +
            "  --out DIR        where models, tables and plots go (default: ./out)\n" +
            "  --seed N         MLContext seed (default: 1)";

        /// <summary>--trainers, in the order given (default: all).</summary>
        public IReadOnlyList<string> Trainers { get; private set; } = TrainerChoices.DefaultNames;

        /// <summary>--data, or null.</summary>
        public string DataDirectory { get; private set; }

        /// <summary>--epochs, or null.</summary>
        public int? Epochs { get; private set; }

        /// <summary>--hidden, or null.</summary>
        public int[] HiddenLayerSizes { get; private set; }

        /// <summary>--threads, or null.</summary>
        public int? Threads { get; private set; }

        /// <summary>--out.</summary>
        public string OutputDirectory { get; private set; } = Path.Combine(".", "out");

        /// <summary>--seed.</summary>
        public int Seed { get; private set; } = 1;

        /// <summary>--help was given.</summary>
        public bool ShowHelp { get; private set; }

        /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> with a usable message on bad input.</summary>
        public static SampleOptions Parse(string[] args)
        {
            var o = new SampleOptions();
            for (int i = 0; i < args.Length; i++)
            {
                string arg = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
                switch (arg)
                {
                    case "--trainers": o.Trainers = ParseTrainers(Value()); break;
                    case "--data": o.DataDirectory = Value(); break;
                    case "--epochs": o.Epochs = Positive(arg, Value()); break;
                    case "--threads": o.Threads = Positive(arg, Value()); break;
                    case "--seed": o.Seed = Int(arg, Value()); break;
                    case "--out": o.OutputDirectory = Value(); break;
                    case "--hidden":
                        var list = Value();
                        o.HiddenLayerSizes = list == "none" ? Array.Empty<int>() : list.Split(',').Select(s => Positive(arg, s)).ToArray();
                        break;
                    case "-h":
                    case "--help": o.ShowHelp = true; break;
                    default: throw new ArgumentException($"unknown argument '{arg}'.");
                }
            }
            return o;
        }

        private static IReadOnlyList<string> ParseTrainers(string list)
        {
            var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => n.ToLowerInvariant()).ToArray();
            if (names.Length == 0)
                throw new ArgumentException("--trainers needs at least one trainer.");
            foreach (var name in names)
                if (!TrainerChoices.Names.Contains(name))
                    throw new ArgumentException($"--trainers: unknown trainer '{name}' (known: {string.Join(", ", TrainerChoices.Names)}).");
            return names.Distinct().ToArray();
        }

        private static int Int(string name, string text) =>
            int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
                : throw new ArgumentException($"{name} expects an integer, got '{text}'.");

        private static int Positive(string name, string text)
        {
            int v = Int(name, text);
            return v > 0 ? v : throw new ArgumentException($"{name} expects a positive integer, got {v}.");
        }
    }
}
