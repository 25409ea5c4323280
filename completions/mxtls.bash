# bash completion for mxtls. The commands, options, option values and scenario names come
# from the installed program itself (mxtls __complete), so they follow it.
_mxtls() {
  local cur prev words cword
  _init_completion 2>/dev/null || {
    cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
  }
  local prog=${words[0]}
  if ((cword == 1)); then
    COMPREPLY=($(compgen -W "$("$prog" __complete commands 2>/dev/null) --help --version" -- "$cur"))
    return
  fi
  local cmd=${words[1]}
  if [[ $cmd == help ]]; then
    ((cword == 2)) && COMPREPLY=($(compgen -W "$("$prog" __complete commands 2>/dev/null)" -- "$cur"))
    return
  fi
  local opts
  opts=$("$prog" __complete options "$cmd" 2>/dev/null) || return
  # The word before is an option that takes a value: its values, or file names.
  if [[ $prev == -* ]] && grep -q "^$prev	value\$" <<<"$opts"; then
    local values
    values=$("$prog" __complete values "$cmd" "$prev" 2>/dev/null)
    if [[ -n $values ]]; then
      COMPREPLY=($(compgen -W "$(grep -vx FILE <<<"$values")" -- "$cur"))
      grep -qx FILE <<<"$values" && COMPREPLY+=($(compgen -f -- "$cur"))
    else
      COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(cut -f1 <<<"$opts")" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _mxtls mxtls
