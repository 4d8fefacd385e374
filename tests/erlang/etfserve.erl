%% A line-oriented ETF oracle for tests/erlang/test_etf_erl.py.
%%
%% One long-lived `erl -noshell` runs serve/0; each request is one line on
%% stdin, each answer one line on stdout ("ok ..." or "error ..."). Hex is the
%% transport so binaries never meet line discipline.
%%
%%   rt Minor Det Level Hex   binary_to_term(B, [safe]) then term_to_binary
%%                            with {minor_version,Minor}, deterministic if
%%                            Det=1, {compressed,Level} -> "ok Hex"
%%   b64 Text Expr            Text as Base.decode64(padding: false) reads it,
%%                            binary_to_term([safe]), =:= the Erlang term Expr
%%                            -> "ok true" | "ok false"
%%   rand Seed N Minor        N random terms (etfrand) -> "ok Plain:Det ..."
%%                            with term_to_binary(T, [{minor_version,Minor}])
%%                            and the same plus deterministic
-module(etfserve).
-export([serve/0]).

serve() ->
    ok = io:setopts(standard_io, [binary, {encoding, latin1}]),
    loop().

loop() ->
    case io:get_line(standard_io, '') of
        eof -> halt(0);
        {error, _} -> halt(1);
        Line ->
            Reply = try handle(string:trim(Line, trailing, "\r\n"))
                    catch C:R -> ["error ", io_lib:format("~0p:~0p", [C, R])]
                    end,
            ok = io:put_chars(standard_io, [Reply, $\n]),
            loop()
    end.

hex(B) -> binary:encode_hex(B).
unhex(H) -> binary:decode_hex(H).

handle(<<"rt ", Rest/binary>>) ->
    [Minor, Det, Level, Hex] = binary:split(Rest, <<" ">>, [global]),
    T = binary_to_term(unhex(Hex), [safe]),
    ["ok ", hex(term_to_binary(T, opts(Minor, Det, Level)))];
handle(<<"b64 ", Rest/binary>>) ->
    [Text, Expr] = binary:split(Rest, <<" ">>),
    Bin = base64:decode(repad(Text)),
    T = binary_to_term(Bin, [safe]),
    {ok, Tokens, _} = erl_scan:string(unicode:characters_to_list(Expr) ++ "."),
    {ok, Expected} = erl_parse:parse_term(Tokens),
    ["ok ", atom_to_list(T =:= Expected)];
handle(<<"rand ", Rest/binary>>) ->
    [Seed, N, Minor] = [binary_to_integer(X) || X <- binary:split(Rest, <<" ">>, [global])],
    rand:seed(exsss, {Seed, Seed * 7 + 1, Seed * 13 + 2}),
    Opts = [{minor_version, Minor}],
    Terms = [etfrand:term() || _ <- lists:seq(1, N)],
    ["ok" | [[" ", hex(term_to_binary(T, Opts)), ":", hex(term_to_binary(T, [deterministic | Opts]))]
             || T <- Terms]].

opts(Minor, Det, Level) ->
    [{minor_version, binary_to_integer(Minor)}, {compressed, binary_to_integer(Level)}]
        ++ [deterministic || Det =:= <<"1">>].

%% Base.decode64(text, padding: false) accepts text with or without "=".
repad(Text) ->
    case byte_size(Text) rem 4 of
        0 -> Text;
        2 -> <<Text/binary, "==">>;
        3 -> <<Text/binary, "=">>
    end.
