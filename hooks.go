package ktables

// Change hooks (SPEC D3). Every OnSet (OnDelete, OnMemberSet,
// OnMemberDelete) given runs, in the order given (ADR 9): a second one
// never silently replaces the first, and composing hooks needs no wrapper.

// resolveHooks checks a flat table's hooks against its value type and
// chains each kind into one function (nil when none was given).
func resolveHooks[V any](cfg *config) (onSet, onDelete func(string, V), err error) {
	sets, err := typedHooks[func(string, V)]("OnSet", cfg.onSet)
	if err != nil {
		return nil, nil, err
	}
	dels, err := typedHooks[func(string, V)]("OnDelete", cfg.onDelete)
	if err != nil {
		return nil, nil, err
	}
	return chain2(sets), chain2(dels), nil
}

// resolveMemberHooks does the same for a grouped table's hooks.
func resolveMemberHooks[V any](cfg *config) (onSet, onDelete func(string, string, V), err error) {
	sets, err := typedHooks[func(string, string, V)]("OnMemberSet", cfg.onMemberSet)
	if err != nil {
		return nil, nil, err
	}
	dels, err := typedHooks[func(string, string, V)]("OnMemberDelete", cfg.onMemberDelete)
	if err != nil {
		return nil, nil, err
	}
	return chain3(sets), chain3(dels), nil
}

func typedHooks[F any](option string, hooks []any) ([]F, error) {
	out := make([]F, 0, len(hooks))
	for _, h := range hooks {
		fn, ok := h.(F)
		if !ok {
			return nil, optionErr(option, "hook type %T does not match the table's value type (want %T)", h, *new(F))
		}
		out = append(out, fn)
	}
	return out, nil
}

func chain2[V any](fns []func(string, V)) func(string, V) {
	switch len(fns) {
	case 0:
		return nil
	case 1:
		return fns[0]
	}
	return func(k string, v V) {
		for _, fn := range fns {
			fn(k, v)
		}
	}
}

func chain3[V any](fns []func(string, string, V)) func(string, string, V) {
	switch len(fns) {
	case 0:
		return nil
	case 1:
		return fns[0]
	}
	return func(g, m string, v V) {
		for _, fn := range fns {
			fn(g, m, v)
		}
	}
}
