using System;

namespace FashionMnist
{
    internal static class Program
    {
        private static int Main(string[] args) => SampleApp.Run(args, Console.Out);
    }
}
