using System;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNetMlp.Interop;
using MlNetMlp.Preprocessing;

namespace MlNetMlp.Training
{
    /// <summary>Scores one row at a time for ML.NET's per-row mappers without allocating: one instance per cursor
    /// (ML.NET asks for a mapper per cursor), owning its scratch buffers, so cursors on different threads never share state.</summary>
    internal sealed class RowScorer
    {
        private readonly MlpEnsemble _ensemble;
        private readonly MlpNetwork _network;
        private readonly MlpPreprocessing _preprocessing;
        private readonly Action<long> _countImputed;
        private readonly IExceptionContext _ectx;
        private readonly int _outputKind;
        private readonly int _features;
        private readonly float[] _workspace;
        private readonly float[] _dense;
        private readonly float[] _preprocessed;
        private readonly float[] _output;
        private readonly float[] _member;
        private readonly float[] _outputRange;
        private readonly bool _sparseCapable;
        private int[] _sparseColumns = new int[16];
        private float[] _sparseValues = new float[16];
        private readonly long[] _sparseOffsets = new long[2];

        /// <summary>A scorer of <paramref name="ensemble"/> behind <paramref name="preprocessing"/> (null: raw features
        /// in, a model from before preprocessing); imputed values are reported to <paramref name="countImputed"/>.</summary>
        internal RowScorer(MlpEnsemble ensemble, MlpPreprocessing preprocessing, Action<long> countImputed, IExceptionContext ectx, int outputKind,
            float[] outputRange = null)
        {
            _outputRange = outputRange;
            _sparseCapable = preprocessing != null && preprocessing.KeepsZeros;
            _ensemble = ensemble;
            var network = ensemble.First;
            _network = network;
            _preprocessing = preprocessing;
            _countImputed = countImputed;
            _ectx = ectx;
            _outputKind = outputKind;
            _features = preprocessing?.Inputs ?? network.InputCount;
            _workspace = new float[network.WorkspaceSize(1)];
            _dense = new float[_features];
            _preprocessed = preprocessing != null ? new float[network.InputCount] : null;
            _output = new float[network.OutputCount];
            _member = ensemble.Count > 1 ? new float[network.OutputCount] : null;
        }

        /// <summary>The network's outputs for one row, valid until the next call.</summary>
        internal ReadOnlySpan<float> Score(in VBuffer<float> features)
        {
            if (features.Length != _features)
                throw _ectx.Except($"The features vector has {features.Length} values but the model was trained on {_features}.");
            // a sparse row with a preprocessing that keeps zeros: scored from its nonzeros, never densified
            if (!features.IsDense && _sparseCapable && features.GetValues().Length * 4 < _features)
                return ScoreSparse(features);
            ReadOnlySpan<float> x = features.GetValues();
            if (!features.IsDense)
            {
                TrainingSet.CopyRow(features, _dense);
                x = _dense;
            }
            if (_preprocessing != null)
            {
                long imputed = _preprocessing.Apply(x, _preprocessed);
                if (imputed > 0)
                    _countImputed(imputed);
                x = _preprocessed;
            }
            // One row on the calling thread: splitting it across cores saved ~4 µs in tight loops but cost ~80 µs
            // whenever the worker threads had gone to sleep (measured), and concurrent scorers would oversubscribe.
            _network.Predict(x, 1, _outputKind, _output, _workspace, threads: 1);
            // the members' outputs summed in member order, then divided by the count (the ONNX graph's Mean)
            for (int m = 1; m < _ensemble.Count; m++)
            {
                _ensemble.Members[m].Predict(x, 1, _outputKind, _member, _workspace, threads: 1);
                for (int j = 0; j < _output.Length; j++)
                    _output[j] += _member[j];
            }
            return Finish();
        }

        /// <summary>The summed member outputs divided by the member count, then clamped to the output range.</summary>
        private ReadOnlySpan<float> Finish()
        {
            if (_ensemble.Count > 1)
            {
                float count = _ensemble.Count;
                for (int j = 0; j < _output.Length; j++)
                    _output[j] /= count;
            }
            if (_outputRange != null)
                for (int j = 0; j < _output.Length; j++)
                    _output[j] = Math.Clamp(_output[j], _outputRange[0], _outputRange[1]);
            return _output;
        }

        /// <summary>One sparse row through the native sparse path (the preprocessing applied to a copy of its nonzeros).</summary>
        private unsafe ReadOnlySpan<float> ScoreSparse(in VBuffer<float> features)
        {
            var indices = features.GetIndices();
            var values = features.GetValues();
            int n = values.Length;
            if (_sparseColumns.Length < n)
            {
                _sparseColumns = new int[Math.Max(n, _sparseColumns.Length * 2)];
                _sparseValues = new float[_sparseColumns.Length];
            }
            // ML.NET keeps a sparse VBuffer's indices ascending and distinct; explicit zeros are harmless
            indices.CopyTo(_sparseColumns);
            values.CopyTo(_sparseValues);
            long imputed = _preprocessing.ApplySparse(_sparseColumns.AsSpan(0, n), _sparseValues.AsSpan(0, n));
            if (imputed > 0)
                _countImputed(imputed);
            _sparseOffsets[1] = n;
            for (int m = 0; m < _ensemble.Count; m++)
            {
                var target = m == 0 ? _output : _member;
                fixed (long* o = _sparseOffsets)
                fixed (int* c = _sparseColumns)
                fixed (float* v = _sparseValues)
                fixed (float* output = target)
                fixed (float* ws = _workspace)
                {
                    var x = new NativeMethods.Csr { Rows = 1, Cols = _network.InputCount, Offsets = o, Columns = c, Values = v };
                    Native.Check(NativeMethods.mlp_network_predict_csr(_ensemble.Members[m].Handle, x, _outputKind, output, target.Length,
                        ws, _workspace.Length, 1));
                }
                if (m > 0)
                    for (int j = 0; j < _output.Length; j++)
                        _output[j] += _member[j];
            }
            return Finish();
        }

        /// <summary>A <c>ValueMapper</c> producing the whole output vector.</summary>
        internal void MapVector(in VBuffer<float> src, ref VBuffer<float> dst)
        {
            var scores = Score(src);
            var editor = VBufferEditor.Create(ref dst, scores.Length);
            scores.CopyTo(editor.Values);
            dst = editor.Commit();
        }

        /// <summary>A <c>ValueMapper</c> producing the single output.</summary>
        internal void MapScalar(in VBuffer<float> src, ref float dst) => dst = Score(src)[0];
    }
}
