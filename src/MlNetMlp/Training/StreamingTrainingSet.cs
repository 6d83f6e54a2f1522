using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNetMlp.Interop;
using MlNetMlp.Preprocessing;

namespace MlNetMlp.Training
{
    /// <summary>Training rows read from the <see cref="IDataView"/> again on every epoch instead of being kept in
    /// memory: one cursor pass per epoch (a shuffled cursor when the view can shuffle, else a shuffle pool of
    /// <c>ShufflePoolRows</c> rows, as ML.NET's <c>RowShufflingTransformer</c> does), cut into minibatches (dense
    /// blocks or CSR blocks) that a second thread fills and preprocesses while the native trainer steps on the
    /// previous one. A first pass gathers what the other kinds know from memory: the row count, labels, targets and
    /// weights (for the checks, the target scaling and the calibrator), missing values per column, and a sample of
    /// up to 16,384 rows for the preprocessing statistics. Memory: the sample, two minibatches and the pool.</summary>
    internal sealed unsafe class StreamingTrainingSet : TrainingSet
    {
        private readonly RoleMappedData _data;
        private readonly LabelKind _labelKind;
        private readonly int _classCount;
        private readonly int _rawColumns;
        private readonly bool _sparse;
        private readonly int _poolRows;
        private readonly Func<DataViewRowId, bool> _include;
        private readonly IHost _host;
        private readonly float[] _sample;      // dense: up to MaxStatisticsRows rows of raw features
        private readonly int _sampleRows;
        private readonly float[] _largest;     // sparse: max |x| per column over the rows
        private MlpPreprocessing _preprocessing;
        private TargetScaling _scaling = TargetScaling.Identity;
        private int _epoch;

        /// <summary>Epochs streamed so far (each epoch's shuffle seed derives from it); set when resuming a checkpoint.</summary>
        internal int EpochsDone
        {
            get => _epoch;
            set => _epoch = value;
        }

        private StreamingTrainingSet(RoleMappedData data, LabelKind labelKind, int classCount, IHost host, int columns, bool sparse,
            int poolRows, Func<DataViewRowId, bool> include, RowTargets targets, long[] missing, float[] sample, int sampleRows,
            float[] largest, bool canShuffle)
            : base(columns, targets)
        {
            _data = data;
            _labelKind = labelKind;
            _classCount = classCount;
            _host = host;
            _rawColumns = columns;
            _sparse = sparse;
            _poolRows = poolRows;
            _include = include;
            _sample = sample;
            _sampleRows = sampleRows;
            _largest = largest;
            CanShuffle = canShuffle;
            Array.Copy(missing, MissingPerColumn, missing.Length);
        }

        internal override bool IsSparse => _sparse;
        internal override long StoredValues => 0;
        internal bool CanShuffle { get; }
        /// <summary>Minibatch rows (set by the loop before the first epoch).</summary>
        internal int BatchSize { get; set; } = 256;

        /// <summary>The statistics pass. <paramref name="include"/> keeps the rows of this part (a hold-out by row id),
        /// or null for all.</summary>
        internal static StreamingTrainingSet Read(RoleMappedData data, LabelKind labelKind, int classCount, IHost host, IChannel ch,
            string what, bool sparse, int poolRows, Func<DataViewRowId, bool> include, int seed)
        {
            data.CheckFeatureFloatVector(out int columns);
            var missing = new long[columns];
            const int maxSample = PreprocessingFitter.MaxStatisticsRows;
            float[] sample = sparse ? null : new float[(long)maxSample * columns];
            float[] largest = sparse ? new float[columns] : null;
            var random = new Random(seed);
            long seen = 0;
            var dense = sparse ? null : new float[columns];
            var targets = ReadLoop(data, labelKind, classCount, host, ch, what, row =>
            {
                if (sparse)
                {
                    var v = row.GetValues();
                    var idx = row.IsDense ? default : row.GetIndices();
                    for (int i = 0; i < v.Length; i++)
                    {
                        int j = row.IsDense ? i : idx[i];
                        if (!float.IsFinite(v[i])) missing[j]++;
                        else largest[j] = Math.Max(largest[j], Math.Abs(v[i]));
                    }
                    return;
                }
                CopyRow(row, dense, missing);
                // reservoir sample (Vitter's algorithm R): every row equally likely to be among the kept ones
                long slot = seen < maxSample ? seen : random.NextInt64(seen + 1);
                if (slot < maxSample)
                    dense.CopyTo(sample.AsSpan((int)slot * columns, columns));
                seen++;
            }, include);
            int sampleRows = (int)Math.Min(seen, maxSample);
            bool canShuffle = data.Data.CanShuffle;
            return new StreamingTrainingSet(data, labelKind, classCount, host, columns, sparse, poolRows, include, targets, missing,
                sample, sampleRows, largest, canShuffle);
        }

        internal override MlpPreprocessing FitPreprocessing(int[] rows, bool normalize, int[] indicators, int seed, int threads)
        {
            if (_sparse)
            {
                var scale = new float[_rawColumns];
                for (int j = 0; j < _rawColumns; j++)
                    scale[j] = !normalize ? 1f : _largest[j] > 0 ? (float)Math.Min(1.0 / _largest[j], float.MaxValue) : 0f;
                return new MlpPreprocessing(new float[_rawColumns], new float[_rawColumns], scale, false, Array.Empty<int>());
            }
            fixed (float* sample = _sample)
                return PreprocessingFitter.Fit(sample, _rawColumns, Enumerable.Range(0, _sampleRows).ToArray(), normalize, indicators, seed, threads);
        }

        /// <summary>Nothing is transformed now: every minibatch is preprocessed as it is read. Returns 0 (the imputed
        /// values are counted per epoch, in the log line of the first).</summary>
        internal override long ApplyPreprocessing(MlpPreprocessing preprocessing)
        {
            if (IsPreprocessed || preprocessing.Inputs != _rawColumns)
                throw new InvalidOperationException("The preprocessing does not fit these rows.");
            _preprocessing = preprocessing;
            Columns = preprocessing.Outputs;
            IsPreprocessed = true;
            return 0;
        }

        /// <summary>The regression target scaling, applied to each minibatch's targets as it is read.</summary>
        internal void SetTargetScaling(TargetScaling scaling) => _scaling = scaling;

        // ---- minibatches ------------------------------------------------------------------------------------

        /// <summary>One minibatch as the native trainer takes it: a dense block (Columns floats per row) or a CSR block.</summary>
        internal sealed class Batch
        {
            internal int Rows;
            internal float[] Dense;
            internal long[] Offsets;
            internal int[] Indices;
            internal float[] Values;
            internal long Nonzeros;
            internal int[] Labels;
            internal float[] Targets;
            internal float[] Weights;
        }

        /// <summary>The rows of one epoch, in order (shuffled when <paramref name="shuffle"/>), read on a second thread
        /// and handed over through a queue of two minibatches. Three minibatch buffers circulate (being filled, queued,
        /// being trained on): nothing is allocated per minibatch, so the large-object heap does not fill with garbage.</summary>
        private IEnumerable<Batch> Batches(bool shuffle, int seed, CancellationToken cancel)
        {
            using var queue = new BlockingCollection<Batch>(boundedCapacity: 2);
            using var free = new BlockingCollection<Batch>();
            for (int i = 0; i < 4; i++) free.Add(NewBatch(BatchSize));
            Exception failure = null;
            var producer = Task.Run(() =>
            {
                try
                {
                    foreach (var b in ReadBatches(shuffle, seed, free, cancel))
                        queue.Add(b, cancel);
                }
                catch (Exception e) when (!(e is OperationCanceledException && cancel.IsCancellationRequested))
                {
                    failure = e;
                }
                finally
                {
                    queue.CompleteAdding();
                }
            });
            try
            {
                foreach (var b in queue.GetConsumingEnumerable(cancel))
                {
                    yield return b;
                    free.Add(b); // trained on: back to the producer
                }
            }
            finally
            {
                producer.Wait();
            }
            if (failure != null)
                throw new InvalidOperationException($"Reading the training data failed: {failure.Message}", failure);
        }

        private IEnumerable<Batch> ReadBatches(bool shuffle, int seed, BlockingCollection<Batch> free, CancellationToken cancel)
        {
            var featureColumn = _data.Schema.Feature.Value;
            var labelColumn = _data.Schema.Label.Value;
            var weightColumn = _data.Schema.Weight;
            var active = weightColumn.HasValue ? new[] { featureColumn, labelColumn, weightColumn.Value } : new[] { featureColumn, labelColumn };
            bool cursorShuffles = shuffle && CanShuffle;
            using var cursor = cursorShuffles ? _data.Data.GetRowCursor(active, new Random(seed)) : _data.Data.GetRowCursor(active);
            // rows go straight from the cursor's buffer into the minibatch; only a shuffle pool needs copies of them
            bool pooled = shuffle && !cursorShuffles && _poolRows > 0;
            var rows = UsableRows(cursor, featureColumn, labelColumn, weightColumn, copy: pooled);
            if (pooled)
                rows = ShufflePool(rows, _poolRows, new Random(seed));
            int batch = BatchSize;
            Batch current = Reset(free.Take(cancel));
            foreach (var (features, label, weight) in rows)
            {
                cancel.ThrowIfCancellationRequested();
                Add(current, features, label, weight);
                if (current.Rows == batch)
                {
                    Finish(current);
                    yield return current;
                    current = Reset(free.Take(cancel));
                }
            }
            if (current.Rows > 0)
            {
                Finish(current);
                yield return current;
            }
        }

        /// <summary>The usable rows of a cursor (a label, a valid weight, in this part), features copied out.</summary>
        private IEnumerable<(VBuffer<float> Features, float Label, float Weight)> UsableRows(DataViewRowCursor cursor, DataViewSchema.Column featureColumn,
            DataViewSchema.Column labelColumn, DataViewSchema.Column? weightColumn, bool copy)
        {
            var getFeatures = cursor.GetGetter<VBuffer<float>>(featureColumn);
            var getLabel = LabelGetter(cursor, labelColumn, _labelKind, _classCount, _host);
            var getWeight = weightColumn.HasValue ? cursor.GetGetter<float>(weightColumn.Value) : null;
            var getId = _include != null ? cursor.GetIdGetter() : null;
            DataViewRowId id = default;
            VBuffer<float> row = default;
            while (cursor.MoveNext())
            {
                _host.CheckAlive();
                if (getId != null)
                {
                    getId(ref id);
                    if (!_include(id)) continue;
                }
                float label = getLabel();
                if (float.IsNaN(label)) continue;
                float weight = 1;
                if (getWeight != null)
                {
                    getWeight(ref weight);
                    if (!float.IsFinite(weight) || weight < 0) continue;
                }
                getFeatures(ref row);
                if (!copy)
                {
                    yield return (row, label, weight); // consumed before the cursor moves
                    continue;
                }
                VBuffer<float> kept = default;
                row.CopyTo(ref kept); // a pooled row outlives the cursor's buffer
                yield return (kept, label, weight);
            }
        }

        /// <summary>A pool of <paramref name="size"/> rows: each new row replaces a random one of the pool, which goes
        /// out (then the pool drains in random order): RowShufflingTransformer's scheme.</summary>
        private static IEnumerable<T> ShufflePool<T>(IEnumerable<T> rows, int size, Random random)
        {
            var pool = new List<T>(size);
            foreach (var row in rows)
            {
                if (pool.Count < size)
                {
                    pool.Add(row);
                    continue;
                }
                int k = random.Next(size);
                yield return pool[k];
                pool[k] = row;
            }
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pool));
            foreach (var row in pool)
                yield return row;
        }

        private static Batch Reset(Batch b)
        {
            b.Rows = 0;
            b.Nonzeros = 0;
            return b;
        }

        private Batch NewBatch(int batch) => new Batch
        {
            Dense = _sparse ? null : new float[(long)batch * Columns],
            Offsets = _sparse ? new long[batch + 1] : null,
            Indices = _sparse ? new int[1024] : null,
            Values = _sparse ? new float[1024] : null,
            Labels = _labelKind == LabelKind.Key ? new int[batch] : null,
            Targets = _labelKind != LabelKind.Key ? new float[batch] : null,
            Weights = _data.Schema.Weight.HasValue ? new float[batch] : null,
        };

        private void Add(Batch b, in VBuffer<float> features, float label, float weight)
        {
            int r = b.Rows;
            if (_sparse)
            {
                var v = features.GetValues();
                var idx = features.IsDense ? default : features.GetIndices();
                int need = (int)b.Nonzeros + v.Length;
                if (need > b.Indices.Length)
                {
                    Array.Resize(ref b.Indices, Math.Max(need, b.Indices.Length * 2));
                    Array.Resize(ref b.Values, b.Indices.Length);
                }
                for (int i = 0; i < v.Length; i++)
                    if (v[i] != 0)
                    {
                        b.Indices[b.Nonzeros] = features.IsDense ? i : idx[i];
                        b.Values[b.Nonzeros] = v[i];
                        b.Nonzeros++;
                    }
                b.Offsets[r + 1] = b.Nonzeros;
            }
            else
                CopyRow(features, b.Dense.AsSpan(r * Columns, _rawColumns));
            if (b.Labels != null) b.Labels[r] = (int)label;
            else b.Targets[r] = (float)((label - _scaling.Mean) / _scaling.Scale);
            if (b.Weights != null) b.Weights[r] = weight;
            b.Rows++;
        }

        /// <summary>The batch's preprocessing, in place (rows widened to the network's inputs).</summary>
        private void Finish(Batch b)
        {
            if (_sparse)
                _preprocessing.ApplySparse(b.Indices.AsSpan(0, (int)b.Nonzeros), b.Values.AsSpan(0, (int)b.Nonzeros));
            else
                fixed (float* x = b.Dense) // rows Columns apart, the raw values at the start of each (the rest: indicators)
                    _preprocessing.Apply(x, Columns, b.Rows, x, Columns);
        }

        // ---- the operations the loop uses ---------------------------------------------------------------------

        /// <summary>One epoch: every minibatch stepped by every trainer (side by side for an ensemble);
        /// <paramref name="beforeStep"/> runs first for each trainer (cancellation, the learning rate).</summary>
        internal void TrainEpoch(TrainerHandle[] trainers, Action<int> beforeStep, double[] lossSums, bool shuffle, int seed,
            ParallelOptions parallel, CancellationToken cancel)
        {
            Array.Clear(lossSums);
            ComputeEpoch(trainers.Length, (m, b) =>
            {
                beforeStep(m);
                lossSums[m] += StepBatch(trainers[m], b) * b.Rows;
            }, null, shuffle, seed, parallel, cancel);
        }

        /// <summary>One pass over the epoch's minibatches: <paramref name="compute"/>(member, batch) for every member
        /// (side by side for several), then <paramref name="afterBatch"/> (data-parallel: the allreduce and update).</summary>
        internal void ComputeEpoch(int members, Action<int, Batch> compute, Action afterBatch, bool shuffle, int seed,
            ParallelOptions parallel, CancellationToken cancel)
        {
            int epochSeed = seed + 7919 * ++_epoch;
            // The data view's cursors allocate block buffers on the large-object heap, which only a full collection frees:
            // one per epoch keeps a streamed run's memory at what one pass needs (a few milliseconds per epoch).
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            foreach (var b in Batches(shuffle, epochSeed, cancel))
            {
                if (members == 1)
                    compute(0, b);
                else
                    SideBySide.For(members, parallel, m => compute(m, b));
                afterBatch?.Invoke();
            }
        }

        /// <summary>A training step on one minibatch (with <paramref name="update"/> false the gradient only).</summary>
        internal double StepBatch(TrainerHandle trainer, Batch b, bool update = true)
        {
            double loss;
            fixed (int* labels = b.Labels)
            fixed (float* targets = b.Targets)
            fixed (float* weights = b.Weights)
            {
                if (_sparse)
                {
                    fixed (long* o = b.Offsets)
                    fixed (int* c = b.Indices)
                    fixed (float* v = b.Values)
                    {
                        var x = new NativeMethods.Csr { Rows = b.Rows, Cols = Columns, Offsets = o, Columns = c, Values = v };
                        Native.Check(NativeMethods.mlp_trainer_step_csr(trainer, x, null, b.Rows, labels, targets, weights, update ? 1 : 0, out loss));
                    }
                }
                else
                    fixed (float* x = b.Dense)
                        Native.Check(NativeMethods.mlp_trainer_step(trainer, x, Columns, b.Rows, null, b.Rows, labels, targets, weights, update ? 1 : 0, out loss));
            }
            return loss;
        }

        internal override double Step(TrainerHandle trainer, ReadOnlySpan<int> rows, bool update = true) =>
            throw new InvalidOperationException("Streamed rows are trained epoch by epoch (TrainEpoch), not by index.");

        /// <summary>All rows (in order), in minibatches through the trainer.</summary>
        internal override (double Loss, double Metric, double Weight) Evaluate(TrainerHandle trainer, int[] rows)
        {
            double loss = 0, metric = 0, weight = 0;
            foreach (var b in Batches(false, 0, default))
            {
                double l, m, w;
                fixed (int* labels = b.Labels)
                fixed (float* targets = b.Targets)
                fixed (float* weights = b.Weights)
                {
                    if (_sparse)
                        fixed (long* o = b.Offsets)
                        fixed (int* c = b.Indices)
                        fixed (float* v = b.Values)
                        {
                            var x = new NativeMethods.Csr { Rows = b.Rows, Cols = Columns, Offsets = o, Columns = c, Values = v };
                            Native.Check(NativeMethods.mlp_trainer_evaluate_csr(trainer, x, null, b.Rows, labels, targets, weights, out l, out m, out w));
                        }
                    else
                        fixed (float* x = b.Dense)
                            Native.Check(NativeMethods.mlp_trainer_evaluate(trainer, x, Columns, b.Rows, null, b.Rows, labels, targets, weights, out l, out m, out w));
                }
                loss += l;
                metric += m;
                weight += w;
            }
            return (loss, metric, weight);
        }

        /// <summary>All rows, in the order of the statistics pass (the order of <see cref="TrainingSet.Labels"/>).</summary>
        internal override void Predict(MlpNetwork network, int[] rows, int outputKind, float[] outputs, int threads)
        {
            long at = 0;
            int outs = network.OutputCount;
            foreach (var b in Batches(false, 0, default))
            {
                var workspace = new float[network.WorkspaceSize(b.Rows)];
                fixed (float* output = outputs)
                fixed (float* ws = workspace)
                {
                    if (_sparse)
                        fixed (long* o = b.Offsets)
                        fixed (int* c = b.Indices)
                        fixed (float* v = b.Values)
                        {
                            var x = new NativeMethods.Csr { Rows = b.Rows, Cols = Columns, Offsets = o, Columns = c, Values = v };
                            Native.Check(NativeMethods.mlp_network_predict_csr(network.Handle, x, outputKind, output + at * outs, outs, ws, workspace.Length, threads));
                        }
                    else
                        fixed (float* x = b.Dense)
                            Native.Check(NativeMethods.mlp_network_predict(network.Handle, x, Columns, b.Rows, outputKind, output + at * outs, outs, ws, workspace.Length, threads));
                }
                at += b.Rows;
            }
        }

        public override void Dispose()
        {
        }
    }
}
