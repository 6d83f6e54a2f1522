using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;

/// <summary>A view of <c>rows</c> generated rows (100 dense features from a hash of the row index, and a regression
/// label that is a smooth non-linear function of the first few), computed as the cursor moves: no row is stored.</summary>
public sealed class GeneratedView : IDataView
{
    public const int Columns = 100;
    private readonly long _rows;

    public GeneratedView(long rows)
    {
        _rows = rows;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Label", NumberDataViewType.Single);
        builder.AddColumn("Features", new VectorDataViewType(NumberDataViewType.Single, Columns));
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;
    public DataViewSchema Schema { get; }
    public long? GetRowCount() => _rows;
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random rand = null) => new Cursor(this);
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random rand = null) => new[] { GetRowCursor(columnsNeeded, rand) };

    private static float Value(long row, int j)
    {
        ulong z = (ulong)row * 0x9E3779B97F4A7C15ul + (ulong)j * 0xBF58476D1CE4E5B9ul;
        z = (z ^ (z >> 31)) * 0x94D049BB133111EBul;
        return (float)((z >> 40) * (1.0 / (1 << 24)) * 2 - 1);
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly GeneratedView _view;
        private long _position = -1;

        internal Cursor(GeneratedView view) => _view = view;

        public override DataViewSchema Schema => _view.Schema;
        public override long Position => _position;
        public override long Batch => 0;
        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override bool MoveNext() => ++_position < _view._rows;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index == 0)
            {
                ValueGetter<float> label = (ref float v) =>
                    v = (float)(Math.Sin(3 * Value(_position, 0)) * Value(_position, 1) + 0.5 * Value(_position, 2) * Value(_position, 2));
                return (ValueGetter<TValue>)(Delegate)label;
            }
            ValueGetter<VBuffer<float>> features = (ref VBuffer<float> v) =>
            {
                var editor = VBufferEditor.Create(ref v, Columns);
                for (int j = 0; j < Columns; j++) editor.Values[j] = Value(_position, j);
                v = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)features;
        }
    }
}
