package ui

import tea "github.com/charmbracelet/bubbletea"

// wheelLines is how far one wheel notch scrolls the detail pane, as in most
// terminals' own scrollback.
const wheelLines = 3

// handleMouse gives a click or a wheel notch to the pane under the pointer,
// found from the measured layout, with coordinates inside that pane's border.
// A left click also focuses the pane. While a dialog, the help or the filter
// input has the keys the mouse does nothing: what it would act on is hidden
// or would change under the operator's typing.
func (m Model) handleMouse(msg tea.MouseMsg) (Model, tea.Cmd) {
	if m.tooSmall() || !m.loaded || (m.mode() != modeList && m.mode() != modeDetail) {
		return m, nil
	}
	frameH := m.styles.Pane.GetVerticalFrameSize()
	tableTop := m.bodyTop
	detailTop := tableTop + m.table.Height() + frameH
	inner := msg
	inner.X -= m.styles.Pane.GetBorderLeftSize()
	click := msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft
	switch {
	case msg.Y >= tableTop && msg.Y < detailTop:
		inner.Y -= tableTop + m.styles.Pane.GetBorderTopSize()
		var event tableEvent
		if m.table, event = m.table.Update(inner); event == tableMoved {
			m.showSelected()
		}
		if click && m.focus != modeList {
			m.focus = modeList
			m.layout()
		}
	case msg.Y >= detailTop && msg.Y < detailTop+m.detail.Height()+frameH:
		inner.Y -= detailTop + m.styles.Pane.GetBorderTopSize()
		m.detail, _ = m.detail.Update(inner)
		if click && m.focus != modeDetail && m.table.Selected() != nil {
			m.focus = modeDetail
			m.layout()
		}
	}
	return m, nil
}

// mouse selects the clicked row and moves the selection with the wheel. msg's
// Y counts from the column header.
func (t *groupTable) mouse(msg tea.Msg) tableEvent {
	mm, ok := msg.(tea.MouseMsg)
	if !ok || mm.Action != tea.MouseActionPress || len(t.rows) == 0 {
		return tableUnchanged
	}
	before := t.cursor
	switch mm.Button {
	case tea.MouseButtonWheelUp:
		t.moveTo(t.cursor - 1)
	case tea.MouseButtonWheelDown:
		t.moveTo(t.cursor + 1)
	case tea.MouseButtonLeft:
		row := mm.Y - 1 // below the column header
		if row < 0 || row >= t.pageRows() || t.offset+row >= len(t.rows) {
			return tableUnchanged
		}
		t.moveTo(t.offset + row)
	}
	if t.cursor != before {
		return tableMoved
	}
	return tableUnchanged
}

// mouse scrolls the pane with the wheel.
func (d *detailPane) mouse(msg tea.Msg) {
	mm, ok := msg.(tea.MouseMsg)
	if !ok || mm.Action != tea.MouseActionPress {
		return
	}
	switch mm.Button {
	case tea.MouseButtonWheelUp:
		d.viewport.ScrollUp(wheelLines)
	case tea.MouseButtonWheelDown:
		d.viewport.ScrollDown(wheelLines)
	}
}
