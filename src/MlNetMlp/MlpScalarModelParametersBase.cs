using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using MlNetMlp.Interop;
using MlNetMlp.Preprocessing;
using MlNetMlp.Onnx;
using MlNetMlp.Training;

namespace MlNetMlp
{
    /// <summary>The models with one output unit (binary and regression): each row scores to that unit's raw value.</summary>
    public abstract class MlpScalarModelParametersBase : MlpModelParametersBase<float>
    {
        internal MlpScalarModelParametersBase(IHostEnvironment env, string name, MlpEnsemble ensemble, MlpPreprocessing preprocessing, IEnumerable<MlpEpochReport> history, float[] outputRange = null)
            : base(env, name, ensemble, preprocessing, history, outputRange)
        {
        }

        internal MlpScalarModelParametersBase(IHostEnvironment env, string name, ModelLoadContext ctx, int[] expectedLosses, string kind)
            : base(env, name, ctx, expectedLosses, kind)
        {
        }

        private protected override DataViewType OutputType => NumberDataViewType.Single;

        private protected override void SaveAsOnnxCore(OnnxContext ctx, string[] outputNames, string featureColumn)
        {
            Host.Check(outputNames.Length >= 1, "Expected the Score output.");
            MlpOnnxExport.AddRaw(ctx, Ensemble, MlpOnnxExport.AddPreprocessing(ctx, Preprocessing, featureColumn), outputNames[0], OutputRange);
        }

        private protected override Delegate CreateMapper()
        {
            var scorer = new RowScorer(Ensemble, Preprocessing, CountImputed, Host, NativeMethods.OutputRaw, OutputRange);
            return (ValueMapper<VBuffer<float>, float>)scorer.MapScalar;
        }
    }
}
