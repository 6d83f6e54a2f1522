using System;
using System.Collections.Generic;
using System.Linq;
using MlNetMlp;
using ScottPlot;

namespace FashionMnist
{
    /// <summary>PNG plots with ScottPlot: learning curves and a confusion-matrix heat map.</summary>
    public static class Plots
    {
        /// <summary>Training and test loss (left axis) and test accuracy (right axis) per epoch.</summary>
        public static void LearningCurve(IReadOnlyList<MlpEpochReport> history, string title, string path)
        {
            var plot = new Plot();
            double[] epochs = history.Select(h => (double)h.Epoch).ToArray();
            var train = plot.Add.Scatter(epochs, history.Select(h => h.TrainingLoss).ToArray());
            train.LegendText = "training loss";
            if (history.Any(h => !double.IsNaN(h.ValidationLoss)))
            {
                var test = plot.Add.Scatter(epochs, history.Select(h => h.ValidationLoss).ToArray());
                test.LegendText = "test loss (monitoring only)";
                var accuracy = plot.Add.Scatter(epochs, history.Select(h => h.ValidationMetric).ToArray());
                accuracy.LegendText = "test accuracy (right axis)";
                accuracy.Axes.YAxis = plot.Axes.Right;
                plot.Axes.Right.Label.Text = "accuracy";
            }
            plot.Title(title);
            plot.XLabel("epoch");
            plot.YLabel("cross-entropy loss");
            plot.ShowLegend(Alignment.UpperCenter);
            plot.SavePng(path, 900, 550);
        }

        /// <summary>A heat map of row-normalized counts (rows: actual class, columns: predicted), with the counts written in.</summary>
        public static void ConfusionMatrix(IReadOnlyList<IReadOnlyList<double>> counts, IReadOnlyList<string> classNames, string title, string path)
        {
            int n = classNames.Count;
            var share = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                double total = Math.Max(1, counts[i].Sum());
                for (int j = 0; j < n; j++)
                    share[i, j] = counts[i][j] / total;
            }
            var plot = new Plot();
            var heatmap = plot.Add.Heatmap(share);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            heatmap.Rectangle = new CoordinateRect(-0.5, n - 0.5, -0.5, n - 0.5); // cell (i, j) centred on (j, i)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    var text = plot.Add.Text(counts[i][j].ToString("F0"), j, i);
                    text.LabelFontColor = share[i, j] > 0.5 ? Colors.Black : Colors.White;
                    text.LabelAlignment = Alignment.MiddleCenter;
                    text.LabelFontSize = 12;
                }
            double[] positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
            plot.Axes.Bottom.SetTicks(positions, classNames.ToArray());
            plot.Axes.Left.SetTicks(positions, classNames.ToArray());
            plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            plot.Axes.Bottom.MinimumSize = 110;
            plot.Axes.Left.MinimumSize = 100;
            plot.Axes.SetLimits(-0.5, n - 0.5, n - 0.5, -0.5);
            plot.Title(title);
            plot.XLabel("predicted");
            plot.YLabel("actual");
            plot.SavePng(path, 900, 820);
        }
    }
}
